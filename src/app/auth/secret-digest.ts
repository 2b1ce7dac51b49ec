import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * SHA-256 of a secret. Comparing digests rather than the values makes every comparison the same length,
 * so timingSafeEqual applies and the time taken says nothing about the secret's length or prefix.
 */
export function secretDigest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function digestsEqual(expected: Buffer, presented: Buffer): boolean {
  return expected.length === presented.length && timingSafeEqual(expected, presented);
}
