import type { RequestHandler } from 'express';

/** The SCIM mount point; every accepted URL form is rewritten onto it. */
export const SCIM_MOUNT = '/scim/v2';

const RESOURCES = 'Users|Groups|Agents|Bulk|Schemas|ResourceTypes|ServiceProviderConfig|\\.search|ping';

/**
 * scimgateway-compatible URL forms (issue: wire compatibility):
 *   /{Resource}, /{baseEntity}/{Resource}, {any prefix ending in /v2}/{Resource},
 *   {any prefix ending in /v2}/{baseEntity}/{Resource}
 * The prefix is greedy, so `/scim/v2/Users` is the prefix `/scim/v2` with no baseEntity, and `/v2/Users`
 * is the prefix `/v2`. A single segment before the resource without a `/v2` prefix is a baseEntity.
 * Resource names match case-insensitively, like the rest of the SCIM routes. A resource name is never read
 * as a baseEntity: `/Users/.search` is the resource `Users` and `/.search`, not baseEntity `Users` and `.search`.
 */
const URL_FORM = new RegExp(`^(?<prefix>(?:/[^/]+)*?/v2)?(?:/(?!(?:${RESOURCES})/)(?<base>[^/]+))?/(?<resource>${RESOURCES})(?<rest>/.*)?$`, 'i');

/** A segment that cannot be a baseEntity either (resource names are excluded by URL_FORM itself). */
const RESERVED_BASE = /^v2$/i;

export interface ScimAddress {
  /** The source named in the URL, if any (`{baseEntity}`); validated by the SCIM router. */
  readonly baseEntity: string | null;
  /** What the client used in front of the resource name, for Location and meta.location. */
  readonly publicPrefix: string;
}

declare module 'express-serve-static-core' {
  interface Request {
    /** Set by scimUrlForms for every request routed to SCIM. */
    scimAddress?: ScimAddress;
  }
}

export function matchScimUrl(path: string): { address: ScimAddress; internalPath: string } | null {
  const match = URL_FORM.exec(path);
  const groups = match?.groups;
  if (groups === undefined) return null;
  const prefix = groups['prefix'] ?? '';
  const base = groups['base'];
  const resource = groups['resource'] ?? '';
  // `/scim/v2/v2/Users` is not a form we accept.
  if (base !== undefined && RESERVED_BASE.test(base)) return null;
  const baseEntity = base === undefined ? null : safeDecode(base);
  if (baseEntity === null && base !== undefined) return null;
  return {
    address: { baseEntity, publicPrefix: `${prefix}${base === undefined ? '' : `/${base}`}` },
    internalPath: `${SCIM_MOUNT}/${resource}${groups['rest'] ?? ''}`,
  };
}

function safeDecode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/**
 * Rewrites every accepted URL form onto the SCIM mount before routing, remembering the baseEntity and the
 * public prefix. Paths that are not SCIM forms (the admin API, health, metrics) pass through untouched.
 */
export function scimUrlForms(): RequestHandler {
  return (request, _response, next) => {
    const path = request.path;
    const matched = matchScimUrl(path);
    if (matched !== null) {
      request.scimAddress = matched.address;
      // Most requests already use the mount's own form: leaving `url` as it is spares express parsing it again.
      if (matched.internalPath !== path) {
        const query = request.url.indexOf('?');
        request.url = `${matched.internalPath}${query === -1 ? '' : request.url.slice(query)}`;
      }
    }
    next();
  };
}
