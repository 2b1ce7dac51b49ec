import { DOMParser } from '@xmldom/xmldom';

const DS = 'http://www.w3.org/2000/09/xmldsig#';

/** SHA-2 only: SHA-1 signatures are forgeable in practice, so a response signed with one is refused. */
const ALLOWED = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512',
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);

/**
 * The first signature or digest algorithm in a SAML message that is not SHA-2, or null when all are.
 * Unparseable input returns null: node-saml rejects it with its own error.
 */
export function weakAlgorithmIn(xml: string): string | null {
  let document;
  try {
    document = new DOMParser({ onError: () => undefined }).parseFromString(xml, 'text/xml');
  } catch {
    return null;
  }
  for (const name of ['SignatureMethod', 'DigestMethod']) {
    for (const element of Array.from(document.getElementsByTagNameNS(DS, name))) {
      const algorithm = element.getAttribute('Algorithm') ?? '';
      if (!ALLOWED.has(algorithm)) return algorithm === '' ? '(none)' : algorithm;
    }
  }
  return null;
}
