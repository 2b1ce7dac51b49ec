import { afterAll, describe, expect, it } from 'vitest';
import { changeGroup, createGroup } from '../../src/app/directory/groups.js';
import { createPerson, deletePerson } from '../../src/app/directory/people.js';
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

    // The delta is written behind the lock in one round trip: a missing group or a stale If-Match still
    // refuses the request, with nothing written.
    const before = (await db.query<{ n: number }>('select count(*)::int as n from change_events')).rows[0]?.n;
    await expect(changeGroup(deps, scimContext(), unknown, { addMemberIds: [bob.id] }, null)).rejects.toMatchObject({ code: 'not_found' });
    await expect(changeGroup(deps, scimContext(), unknown, { addMemberIds: [unknown] }, null)).rejects.toMatchObject({ code: 'not_found' });
    await expect(changeGroup(deps, scimContext(), outer.id, { addMemberIds: [bob.id] }, outer.version)).rejects.toMatchObject({ code: 'precondition_failed' });
    expect(await members()).toEqual([ann.id]);
    expect((await db.query<{ n: number }>('select count(*)::int as n from change_events')).rows[0]?.n).toBe(before);
  });

  it('deleting a member moves the version of each group it leaves (the group shows one member less)', async () => {
    const { db, cleanup } = await open();
    cleanups.push(cleanup);
    const { store } = await storeWithPolicy(db);
    const deps = { store, queue: new RecordingQueue(), clock: () => new Date(), logger: silentLogger };
    const person = (userName: string) => createPerson(deps, scimContext(), { userName, externalId: null, displayName: null, active: true, attributes: {}, resource: { userName } });
    const [ann, bob] = [await person('ann'), await person('bob')];
    const left = await createGroup(deps, scimContext(), { displayName: 'Left', externalId: null, resource: {} }, [ann.id, bob.id]);
    const other = await createGroup(deps, scimContext(), { displayName: 'Other', externalId: null, resource: {} }, [bob.id]);
    await deletePerson(deps, scimContext(), ann.id, null);
    expect(await store.memberIds(left.id)).toEqual([bob.id]);
    expect((await store.getGroup('src', left.id))?.version).toBe(left.version + 1);
    expect((await store.getGroup('src', other.id))?.version).toBe(other.version);
  });

  it('concurrent add and remove of one member apply in commit order (no lost update)', async () => {
    const { db, cleanup } = await open();
    cleanups.push(cleanup);
    const { store } = await storeWithPolicy(db);
    const deps = { store, queue: new RecordingQueue(), clock: () => new Date(), logger: silentLogger };
    const dan = await createPerson(deps, scimContext(), { userName: 'dan', externalId: null, displayName: null, active: true, attributes: {}, resource: { userName: 'dan' } });
    const group = await createGroup(deps, scimContext(), { displayName: 'Racy', externalId: null, resource: {} }, []);
    for (let round = 0; round < 20; round += 1) {
      // dan is not a member; both requests start together and the group lock orders them. Add first: dan is
      // added, then removed (two new versions, dan out). Remove first: it changes nothing (it answers the
      // version it locked), then dan is added. A remove that read the memberships before the add committed
      // would change nothing *after* the add, answering the add's version, and leave dan in: a lost update.
      const [add, remove] = await Promise.all([
        changeGroup(deps, scimContext(), group.id, { addMemberIds: [dan.id] }, null),
        changeGroup(deps, scimContext(), group.id, { removeMemberIds: [dan.id] }, null),
      ]);
      expect(remove.version).not.toBe(add.version);
      expect((await store.memberIds(group.id)).includes(dan.id)).toBe(add.version > remove.version);
      await changeGroup(deps, scimContext(), group.id, { removeMemberIds: [dan.id] }, null);
    }
  });
});
