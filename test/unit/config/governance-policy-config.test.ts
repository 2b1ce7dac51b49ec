import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/file.js';
import { AppError } from '../../../src/domain/errors.js';

const base = 'sources: [{ id: default, kind: scim }]\n';

function messageOf(yaml: string): string {
  try {
    parseConfig(base + yaml, '/etc/tether/tether.yaml');
  } catch (error) {
    if (error instanceof AppError && error.code === 'invalid_config') return error.message;
    throw error;
  }
  throw new Error('expected invalid_config');
}

describe('tether.yaml policy: expiry, delegation lifetime, environments', () => {
  it('defaults: 7-day notices, a 60 s sweep, no lifetime limit', () => {
    const { policy } = parseConfig(base, '/etc/tether/tether.yaml');
    expect(policy).toMatchObject({ expiryNoticeMs: 7 * 86_400_000, expirySweepIntervalMs: 60_000, maxDelegationMs: {} });
  });

  it('converts days and seconds, fractions allowed, and keeps only the classes given', () => {
    const { policy } = parseConfig(`${base}policy: { expiryNoticeDays: 0.5, expirySweepSeconds: 5, maxDelegationDays: { write: 90, orchestrate: 1.5 } }\n`, '/x/tether.yaml');
    expect(policy).toMatchObject({ expiryNoticeMs: 43_200_000, expirySweepIntervalMs: 5000, maxDelegationMs: { write: 90 * 86_400_000, orchestrate: 129_600_000 } });
    expect(Object.keys(policy.maxDelegationMs)).toEqual(['write', 'orchestrate']);
  });

  it.each([
    ['policy: { expiryNoticeDays: -1 }', 'policy.expiryNoticeDays'],
    ['policy: { expirySweepSeconds: 0 }', 'policy.expirySweepSeconds'],
    ['policy: { maxDelegationDays: { write: 0 } }', 'policy.maxDelegationDays.write'],
    ['policy: { maxDelegationDays: { admin: 3 } }', 'policy.maxDelegationDays'],
    ['policy: { growthNeedsConfirmation: { orchestrate: false } }', 'policy.growthNeedsConfirmation.orchestrate: orchestrate growth always needs explicit approval'],
    ['ceilings: { sandbox: { risks: [read, write] } }', 'ceilings.sandbox.risks[1]: sandbox agents may never hold write tools'],
    ['ceilings: { pilot: { risks: [orchestrate] } }', 'ceilings.pilot.risks[0]: orchestrate tools are for production agents only'],
  ])('%s is refused, naming the key', (yaml, key) => {
    expect(messageOf(`${yaml}\n`)).toContain(key);
  });
});
