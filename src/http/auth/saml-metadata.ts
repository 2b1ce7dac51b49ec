import { DOMParser, type Element } from '@xmldom/xmldom';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';

/** What Tether needs from an IdP's SAML metadata document. */
export interface IdpMetadata {
  readonly entityId: string;
  readonly entryPoint: string;
  /** Signing certificates (base64 DER bodies); several while the IdP rolls its key over. */
  readonly certs: readonly string[];
  readonly logoutUrl: string | null;
}

/**
 * Reads the first IDPSSODescriptor of an IdP metadata file (Okta, Entra ID and most IdPs publish exactly
 * one): entity id, the HTTP-Redirect single sign-on and logout endpoints, and the signing certificates.
 * Returns a message naming what is missing instead of throwing, so config errors can name the key.
 */
export function parseIdpMetadata(xml: string): IdpMetadata | string {
  let root: Element | null;
  try {
    root = new DOMParser({ onError: () => undefined }).parseFromString(xml, 'text/xml').documentElement;
  } catch {
    return 'is not well-formed XML';
  }
  if (root === null) return 'is empty';
  const entity = root.localName === 'EntityDescriptor' ? root : first(root, MD, 'EntityDescriptor');
  const idp = entity === null ? null : first(entity, MD, 'IDPSSODescriptor');
  if (entity === null || idp === null) return 'has no EntityDescriptor with an IDPSSODescriptor';
  const entityId = entity.getAttribute('entityID') ?? '';
  if (entityId === '') return 'EntityDescriptor has no entityID';
  const entryPoint = endpoint(idp, 'SingleSignOnService');
  if (entryPoint === null) return 'has no HTTP-Redirect SingleSignOnService';
  const certs = Array.from(idp.getElementsByTagNameNS(MD, 'KeyDescriptor'))
    .filter((key) => (key.getAttribute('use') ?? 'signing') === 'signing')
    .flatMap((key) => Array.from(key.getElementsByTagNameNS(DS, 'X509Certificate')))
    .map((cert) => (cert.textContent ?? '').replace(/\s+/g, ''))
    .filter((cert) => cert !== '');
  if (certs.length === 0) return 'has no signing X509Certificate';
  return { entityId, entryPoint, certs, logoutUrl: endpoint(idp, 'SingleLogoutService') };
}

function first(parent: Element, namespace: string, name: string): Element | null {
  return parent.getElementsByTagNameNS(namespace, name).item(0);
}

function endpoint(idp: Element, name: string): string | null {
  const services = Array.from(idp.getElementsByTagNameNS(MD, name));
  const redirect = services.find((service) => service.getAttribute('Binding') === REDIRECT);
  return redirect?.getAttribute('Location') ?? null;
}
