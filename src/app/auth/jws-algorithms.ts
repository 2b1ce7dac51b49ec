import { createPublicKey, type KeyObject } from 'node:crypto';

/** JWS algorithms a `scimAuth` jwt credential may accept; `none` is never one of them. */
export const JWS_ALGORITHMS = [
  'HS256', 'HS384', 'HS512',
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512',
  'ES256', 'ES384', 'ES512',
  'EdDSA', 'Ed25519',
] as const;
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number];

const HMAC_MIN_BYTES: Readonly<Partial<Record<JwsAlgorithm, number>>> = { HS256: 32, HS384: 48, HS512: 64 };
export const ASYMMETRIC_ALGORITHMS: readonly JwsAlgorithm[] = JWS_ALGORITHMS.filter((algorithm) => !algorithm.startsWith('HS'));
const RSA: readonly JwsAlgorithm[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_CURVES: Readonly<Record<string, JwsAlgorithm>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

/** HMAC algorithms this shared secret is long enough for (RFC 7518 §3.2: at least the hash size). */
export function algorithmsForSecret(secret: string): JwsAlgorithm[] {
  const bytes = Buffer.byteLength(secret, 'utf8');
  return JWS_ALGORITHMS.filter((algorithm) => (HMAC_MIN_BYTES[algorithm] ?? Infinity) <= bytes);
}

export function minimumSecretBytes(algorithm: JwsAlgorithm): number | undefined {
  return HMAC_MIN_BYTES[algorithm];
}

/** The public key of a PEM text, or why it is not usable as a JWT verification key. */
export function parsePublicKey(pem: string): KeyObject | string {
  if (/PRIVATE KEY-----/.test(pem)) return 'is a private key: give the public key (SPKI PEM)';
  try {
    return createPublicKey({ key: pem, format: 'pem' });
  } catch {
    return 'is not a PEM public key or certificate';
  }
}

/** Algorithms that can verify with this public key (RSA, RSA-PSS, EC P-256/384/521, Ed25519). */
export function algorithmsForPublicKey(key: KeyObject): JwsAlgorithm[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return [...RSA];
    case 'rsa-pss':
      return RSA.filter((algorithm) => algorithm.startsWith('PS'));
    case 'ec': {
      const algorithm = EC_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''];
      return algorithm === undefined ? [] : [algorithm];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
}
