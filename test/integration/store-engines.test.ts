import { afterAll, describe, expect, it } from 'vitest';
import { registerAgent } from '../../src/app/agents/register-agent.js';
import { createGroup } from '../../src/app/directory/groups.js';
import { createPerson } from '../../src/app/directory/people.js';
import { recomputeSponsor } from '../../src/app/pipeline/recompute-sponsor.js';
import { createPgliteDb } from '../../src/store/db-factory.js';
import type { Db } from '../../src/store/db.js';
import { LATEST_SCHEMA_VERSION, migrate } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { RecordingQueue, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';

/** The same migrations, SQL and use cases on a PostgreSQL server and on embedded PGlite. */
const engines: [string, () => Promise<{ db: Db; cleanup: () => Promise<void> }>][] = [
  ['postgres', async () => {
    const database: TestDatabase = await createTestDatabase({ migrate: false });
    return { db: database.db, cleanup: () => database.drop() };
  }],
  ['pglite', async () => {
    const db = await createPgliteDb(null);
    return { db, cleanup: () => db.close() };
  }],
];

describe.each(engines)('store on %s', (_name, open) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('migrates idempotently and runs the pipeline with the same results', async () => {
    const { db, cleanup } = await open();
    cleanups.push(cleanup);
    expect((await migrate(db)).applied).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, index) => index + 1));
    expect((await migrate(db)).applied).toEqual([]);
    const { store, policy } = await storeWithPolicy(db);
    const queue = new RecordingQueue();
    const deps = { store, queue, clock: () => new Date(), logger: silentLogger };
    const person = await createPerson(deps, scimContext(), { userName: 'Ivan@Example.com', externalId: 'x1', displayName: 'Ivan', active: true, attributes: {}, resource: { userName: 'Ivan@Example.com' } });
    const duplicate = await createPerson(deps, scimContext(), { userName: 'ivan@example.com', externalId: null, displayName: null, active: true, attributes: {}, resource: {} }).catch((error: unknown) => error);
    expect((duplicate as { code?: string }).code).toBe('uniqueness');
    const outer = await createGroup(deps, scimContext(), { displayName: 'Sales', externalId: null, resource: {} }, []);
    const inner = await createGroup(deps, scimContext(), { displayName: 'Sales EMEA', externalId: null, resource: {} }, [person.id]);
    const { changeGroup } = await import('../../src/app/directory/groups.js');
    await changeGroup(deps, scimContext(), outer.id, { addMemberIds: [inner.id] }, null);
    const agent = await registerAgent({ ...deps, policy: () => policy }, { type: 'system', id: 'test' }, {
      name: 'bot', purpose: 'test', environment: 'production', sponsor: { sourceId: 'src', userName: 'IVAN@example.com' }, backupSponsors: [], owner: null,
      requestedTools: ['crm.*'], expiresAt: null,
      delegation: { approver: 'a', justification: 'j', tools: null, targetSystems: [], notBefore: null, expiresAt: null },
    });
    const result = await recomputeSponsor({ ...deps, policy: () => policy, targetIds: () => ['t1'] }, person.id);
    expect(result.versions).toEqual([{ agentId: agent.id, version: 1, granted: 2, revoked: 0 }]);
    const view = await store.readModels.getAgent(agent.id);
    // Coverage through a nested group: Ivan is in "Sales EMEA", which is a member of "Sales".
    expect(view?.effective[0]?.provenance.via).toEqual({ kind: 'group', groupId: outer.id, groupName: 'Sales' });
    const page = await store.listPersons('src', { filter: { op: 'eq', path: 'userName', value: 'ivan@EXAMPLE.com' }, startIndex: 1, count: 10, sortBy: null, sortOrder: 'ascending' });
    expect(page.items.map((item) => item.id)).toEqual([person.id]);
    const events = await store.readModels.listChangeEvents({ limit: 10 });
    expect(events[0]?.kind).toBe('agent_registered');
    expect(events[0]?.computedAt).not.toBeNull();
    expect(queue.pushes).toEqual([{ targetId: 't1', agentId: agent.id, version: 1 }]);
  });
});
