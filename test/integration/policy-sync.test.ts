import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAgent } from '../../src/app/agents/register-agent.js';
import { createGroup } from '../../src/app/directory/groups.js';
import { createPerson } from '../../src/app/directory/people.js';
import { recomputeSponsor } from '../../src/app/pipeline/recompute-sponsor.js';
import { parseConfig } from '../../src/config/file.js';
import { syncPolicy } from '../../src/main/bootstrap.js';
import type { Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { POLICY_YAML, RecordingQueue, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';

/** tether.yaml's grant rules as they change between restarts: every change, removal included, is versioned and recomputed. */
describe('policy sync', () => {
  let database: TestDatabase;
  let store: Store;
  const queue = new RecordingQueue();
  const clock = () => new Date();
  const withoutSalesRule = POLICY_YAML.replace(/^ {2}- \{ id: sales,.*\n/m, '');

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ store } = await storeWithPolicy(database.db));
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('a rule removed from tether.yaml is a change: sponsors are recomputed and lose what only it granted; putting it back is one too', async () => {
    expect(withoutSalesRule).not.toContain('id: sales');
    const deps = { store, queue, clock, logger: silentLogger };
    const person = await createPerson(deps, scimContext(), { userName: 'rita', externalId: null, displayName: null, active: true, attributes: {}, resource: { userName: 'rita' } });
    await createGroup(deps, scimContext(), { displayName: 'Sales', externalId: null, resource: {} }, [person.id]);
    let policy = (await syncPolicy(store, parseConfig(POLICY_YAML, '/tmp/tether.yaml'), clock())).policy;
    await registerAgent({ ...deps, policy: () => policy }, { type: 'system', id: 'test' }, {
      name: 'rita-bot', purpose: 'test', environment: 'production', sponsor: { id: person.id }, backupSponsors: [], owner: null,
      requestedTools: ['crm.contacts.read'], expiresAt: null,
      delegation: { approver: 'a', justification: 'j', tools: null, targetSystems: [], notBefore: null, expiresAt: null },
    });
    const recompute = () => recomputeSponsor({ ...deps, policy: () => policy, targetIds: () => [] }, person.id);
    expect((await recompute()).versions).toEqual([expect.objectContaining({ granted: 1, revoked: 0 })]);
    // The same file again changes nothing.
    expect((await syncPolicy(store, parseConfig(POLICY_YAML, '/tmp/tether.yaml'), clock())).recompute).toBe(0);

    const removed = await syncPolicy(store, parseConfig(withoutSalesRule, '/tmp/tether.yaml'), clock());
    expect(removed.recompute).toBe(1);
    policy = removed.policy;
    expect((await recompute()).versions).toEqual([expect.objectContaining({ granted: 0, revoked: 1 })]);
    // Still absent: nothing more to record.
    expect((await syncPolicy(store, parseConfig(withoutSalesRule, '/tmp/tether.yaml'), clock())).recompute).toBe(0);

    const restored = await syncPolicy(store, parseConfig(POLICY_YAML, '/tmp/tether.yaml'), clock());
    expect(restored.recompute).toBe(1);
    policy = restored.policy;
    expect(policy.rules.find((rule) => rule.id === 'sales')?.version).toBe(3);
    expect((await recompute()).versions).toEqual([expect.objectContaining({ granted: 1, revoked: 0 })]);
  });
});
