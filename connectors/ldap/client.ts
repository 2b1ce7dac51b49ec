/**
 * The only module that imports ldapts. It opens a bound session (TLS / StartTLS, CA bundle), streams paged
 * searches, and turns every LDAP or socket failure into an AppError that says what to fix.
 *
 * ldapts traps handled here: `sizeLimit` is never passed (with it, a server-side size limit is swallowed
 * and the result silently truncated), so the server's limit surfaces as SizeLimitExceededError; binary
 * attributes are requested through `explicitBufferAttributes`; a page with a cookie and no entries is
 * simply an empty page, never the end of the search, and a dropped connection is never reopened unbound
 * (both in session-guard.ts: ldapts itself gets them wrong).
 */
import { Client, Control, InvalidCredentialsError, ResultCodeError, SizeLimitExceededError } from 'ldapts';
import { AppError } from '../../src/domain/errors.js';
import type { LdapSourceConfig } from './config.js';
import { guardSession } from './session-guard.js';
import type { LdapEntry } from './mapping/values.js';

export interface SearchRequest {
  readonly base: string;
  readonly scope: 'base' | 'one' | 'sub';
  readonly filter: string;
  readonly attributes: readonly string[];
  readonly binaryAttributes: readonly string[];
  /** Extra request controls by OID (e.g. AD's show-deleted); never the paging control. */
  readonly controls?: readonly string[];
  /** Entries per page asked of the server; the source's `pageSize` when absent. */
  readonly pageSize?: number;
}

/** A bound connection as the scanner needs it. */
export interface LdapSession {
  /** Pages of entries; an empty page does not end the search. */
  searchPages(request: SearchRequest): AsyncIterable<LdapEntry[]>;
  /** One entry by DN (base scope), or null when it does not exist. */
  readEntry(dn: string, attributes: readonly string[], binaryAttributes?: readonly string[]): Promise<LdapEntry | null>;
  close(): Promise<void>;
}

export type LdapConnect = (config: LdapSourceConfig) => Promise<LdapSession>;

/** Opens and binds a session; every failure becomes an AppError naming the source and the cause. */
export const connectLdap: LdapConnect = async (config) => {
  const secure = config.url.toLowerCase().startsWith('ldaps:');
  const tlsOptions = {
    ...(config.caCertificate === undefined ? {} : { ca: config.caCertificate.reveal() }),
    ...(config.tlsInsecure ? { rejectUnauthorized: false } : {}),
  };
  const client = new Client({
    url: config.url,
    timeout: config.timeoutMs,
    connectTimeout: Math.min(config.timeoutMs, 10_000),
    ...(secure ? { tlsOptions } : {}),
    strictDN: false,
  });
  try {
    if (config.startTls) await client.startTLS({ ...tlsOptions, servername: new URL(config.url).hostname });
    await client.bind(config.bindDn, config.bindPassword.reveal());
  } catch (error) {
    await client.unbind().catch(() => undefined);
    throw ldapError(config, error, config.startTls ? 'StartTLS/bind' : 'bind');
  }
  guardSession(client, `LDAP source "${config.id}" (${config.url})`);
  return {
    async *searchPages(request) {
      const controls = (request.controls ?? []).map((oid) => new Control(oid, { critical: true }));
      try {
        for await (const page of client.searchPaginated(request.base, {
          scope: request.scope,
          filter: request.filter,
          attributes: [...request.attributes],
          explicitBufferAttributes: [...request.binaryAttributes],
          paged: { pageSize: request.pageSize ?? config.pageSize },
        }, controls)) {
          yield page.searchEntries;
        }
      } catch (error) {
        throw ldapError(config, error, `search under ${request.base}`);
      }
    },
    async readEntry(dn, attributes, binaryAttributes = []) {
      try {
        const result = await client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: [...attributes], explicitBufferAttributes: [...binaryAttributes] });
        return (result.searchEntries[0] as LdapEntry | undefined) ?? null;
      } catch (error) {
        if (error instanceof ResultCodeError && error.code === 32) return null;
        throw ldapError(config, error, `read of ${dn}`);
      }
    },
    async close() {
      await client.unbind().catch(() => undefined);
    },
  };
};

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE']);

/** One mapping from LDAP and socket failures to AppErrors. Messages name the source, never a secret. */
export function ldapError(config: Pick<LdapSourceConfig, 'id' | 'url' | 'bindDn'>, error: unknown, during: string): AppError {
  if (error instanceof AppError) return error;
  const where = `LDAP source "${config.id}" (${config.url})`;
  const meta = { sourceId: config.id };
  if (error instanceof InvalidCredentialsError) {
    return new AppError('invalid_config', `${where}: bind as ${config.bindDn} rejected: invalid credentials (check bindDn and bindPassword)`, { meta, cause: error });
  }
  if (error instanceof SizeLimitExceededError) {
    return new AppError('invalid_config', `${where}: the server's size limit cut the ${during} short; allow unlimited paged results for ${config.bindDn} (OpenLDAP: limits ... size.prtotal=unlimited; AD: MaxResultSetSize)`, { meta, cause: error });
  }
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error).code) : '';
  const message = error instanceof Error ? error.message : String(error);
  if (UNREACHABLE.has(code) || /timed? ?out|connect/i.test(message) && !(error instanceof ResultCodeError)) {
    return new AppError('unavailable', `${where}: server unreachable during ${during} (${code !== '' ? code : message})`, { meta, cause: error });
  }
  if (/CERT|SSL|TLS|SELF_SIGNED|ALTNAME/i.test(code) || /certificate|tls|ssl/i.test(message)) {
    return new AppError('invalid_config', `${where}: TLS failure during ${during}: ${code !== '' ? code : message} (check caCertificate and the server name)`, { meta, cause: error });
  }
  if (error instanceof ResultCodeError) {
    return new AppError('unavailable', `${where}: ${during} failed: LDAP result ${error.code} (${error.message})`, { meta, cause: error });
  }
  return new AppError('unavailable', `${where}: ${during} failed: ${message}`, { meta, cause: error });
}
