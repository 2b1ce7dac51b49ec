import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit, sealAudit, verifyAuditChain } from '../../src/store/audit.js';
import { sealAll } from '../support/audit.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const entry = (actor: string) => ({ at: new Date(), actor, action: 'test.write', subjectType: 'test', subjectId: actor, detail: { actor } });

describe('audit hash chain sealing on real PostgreSQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.drop();
  });

  it('never seals an entry before an older transaction still running, and chains it once committed', async () => {
    let releaseSlow!: () => void;
    const slowMayCommit = new Promise<void>((resolve) => {
      releaseSlow = resolve;
    });
    let slowWrote!: () => void;
    const slowHasWritten = new Promise<void>((resolve) => {
      slowWrote = resolve;
    });
    // An older transaction writes first and stays open; a younger one commits meanwhile.
    const slow = database.db.transaction(async (tx) => {
      await appendAudit(tx, entry('slow'));
      slowWrote();
      await slowMayCommit;
    });
    await slowHasWritten;
    await database.db.transaction((tx) => appendAudit(tx, entry('fast')));

    // The younger entry is committed but must wait: the older transaction could still commit before it.
    expect(await sealAudit(database.db)).toBe(0);
    releaseSlow();
    await slow;
    expect(await sealAll(database.db)).toBe(2);

    const rolledBack = database.db.transaction(async (tx) => {
      await appendAudit(tx, entry('ghost'));
      throw new Error('roll back');
    });
    await expect(rolledBack).rejects.toThrow('roll back');
    await database.db.transaction((tx) => appendAudit(tx, entry('late')));
    expect(await sealAll(database.db)).toBe(1);

    const verification = await verifyAuditChain(database.db);
    expect(verification).toEqual({ entries: 3, unsealed: 0, firstBrokenSeq: null });
    const chain = await database.db.query<{ actor: string }>('select actor from audit_log order by chain_seq');
    expect(chain.rows.map((row) => row.actor)).toEqual(['slow', 'fast', 'late']);
  });

  it('detects a deleted entry as well as an edited one', async () => {
    await database.db.transaction(async (tx) => {
      for (const actor of ['a', 'b', 'c']) await appendAudit(tx, entry(actor));
    });
    await sealAll(database.db);
    expect((await verifyAuditChain(database.db)).firstBrokenSeq).toBeNull();
    await database.db.query(`delete from audit_log where actor = 'b'`);
    expect((await verifyAuditChain(database.db)).firstBrokenSeq).not.toBeNull();
  });
});
