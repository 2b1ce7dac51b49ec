import { afterAll, describe, expect, it } from 'vitest';
import { changeGroup, createGroup } from '../../src/app/directory/groups.js';
import { createPerson } from '../../src/app/directory/people.js';
import { RecordingQueue, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';
import { STORE_ENGINES } from '../support/engines.js';

/** Membership deltas (one statement: changeMembers) on a PostgreSQL server and on embedded PGlite. */

describe.each(STORE_ENGINES)('group member changes on %s', (_name, open) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('adds, removes, ignores unknown ids, reaches people through nesting and bumps the version only on change', async () => {
    const { db, cleanup } = await open();
    cleanups.push(cleanup);
    const { store } = await storeWithPolicy(db);
    const deps = { store, queue: new RecordingQueue(), clock: () => new Date(), logger: silentLogger };
    const person = (userName: string) => createPerson(deps, scimContext(), { userName, externalId: null, displayName: null, active: true, attributes: {}, resource: { userName } });
    const [ann, bob, cid] = [await person('ann'), await person('bob'), await person('cid')];
    const inner = await createGroup(deps, scimContext(), { displayName: 'Inner', externalId: null, resource: {} }, [bob.id, cid.id]);
    const outer = await createGroup(deps, scimContext(), { displayName: 'Outer', externalId: null, resource: {} }, []);
    const events = async () => (await db.query<{ detail: Record<string, unknown> }>(
      `select detail from change_events where subject_id = $1 order by committed_at, id`, [outer.id])).rows.map((row) => row.detail);
    const members = async () => (await store.memberIds(outer.id)).sort();

    // A nested group and a person in one request, plus an id that names nothing.
    const unknown = '00000000-0000-4000-8000-00000000abcd';
    const added = await changeGroup(deps, scimContext(), outer.id, { addMemberIds: [inner.id, ann.id, unknown] }, outer.version);
    expect(added.version).toBe(outer.version + 1);
    expect(await members()).toEqual([ann.id, inner.id].sort());
    expect((await events()).at(-1)).toMatchObject({ membersAdded: 2, membersRemoved: 0, ignoredMembers: 1, ignoredMemberIds: [unknown], affectedPeople: 3 });

    // Removing the nested group reaches its people; re-adding what is there changes nothing.
    const removed = await changeGroup(deps, scimContext(), outer.id, { removeMemberIds: [inner.id], addMemberIds: [ann.id] }, null);
    expect(removed.version).toBe(added.version + 1);
    expect((await events()).at(-1)).toMatchObject({ membersAdded: 0, membersRemoved: 1, affectedPeople: 2 });
    const same = await changeGroup(deps, scimContext(), outer.id, { addMemberIds: [ann.id] }, null);
    expect(same.version).toBe(removed.version);
    expect(await events()).toHaveLength(3);

    // Removed and added in one request: still a member, nothing changed.
    const both = await changeGroup(deps, scimContext(), outer.id, { removeMemberIds: [ann.id], addMemberIds: [ann.id] }, null);
    expect(both.version).toBe(removed.version);
    expect(await members()).toEqual([ann.id]);

    // A rename and a member change in one request: one new version, as for any request.
    const renamed = await changeGroup(deps, scimContext(), outer.id, { write: (current) => ({ ...current, displayName: 'Outer 2' }), addMemberIds: [bob.id] }, null);
    expect(renamed.version).toBe(both.version + 1);
    expect((await store.getGroup('src', outer.id))?.version).toBe(renamed.version);
    await changeGroup(deps, scimContext(), outer.id, { removeMemberIds: [bob.id] }, null);

    // A group may not contain itself; nothing is written.
    await expect(changeGroup(deps, scimContext(), outer.id, { addMemberIds: [outer.id, bob.id] }, null)).rejects.toMatchObject({ code: 'invalid_value' });
    expect(await members()).toEqual([ann.id]);
  });
});
