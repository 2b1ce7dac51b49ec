import type { Db } from '../../src/store/db.js';

/** Counters PostgreSQL keeps for the benchmark's database: what one request costs the server. */
export interface TableStats {
  readonly xactCommit: number;
  readonly xactRollback: number;
  /** Connections PostgreSQL has accepted for the database: a healthy pool opens them once, not per request. */
  readonly sessions: number;
  readonly changeEvents: number;
  readonly tables: ReadonlyMap<string, { inserted: number; updated: number; indexScans: number; seqScans: number }>;
}

export async function tableStats(db: Db): Promise<TableStats> {
  const database = await db.query<{ xact_commit: number; xact_rollback: number; sessions: number }>(
    'select xact_commit::int8 as xact_commit, xact_rollback::int8 as xact_rollback, sessions::int8 as sessions from pg_stat_database where datname = current_database()',
  );
  const events = await db.query<{ n: number }>('select count(*)::int as n from change_events');
  const tables = await db.query<{ relname: string; ins: number; upd: number; idx: number; seq: number }>(
    'select relname, n_tup_ins::int8 as ins, n_tup_upd::int8 as upd, coalesce(idx_scan, 0)::int8 as idx, seq_scan::int8 as seq from pg_stat_user_tables',
  );
  return {
    xactCommit: database.rows[0]?.xact_commit ?? 0,
    xactRollback: database.rows[0]?.xact_rollback ?? 0,
    sessions: database.rows[0]?.sessions ?? 0,
    changeEvents: events.rows[0]?.n ?? 0,
    tables: new Map(tables.rows.map((row) => [row.relname, { inserted: row.ins, updated: row.upd, indexScans: row.idx, seqScans: row.seq }])),
  };
}

export function statsDelta(before: TableStats, after: TableStats): {
  xactCommit: number; xactRollback: number; sessions: number; changeEvents: number; inserted: number; updated: number; indexScans: number; seqScans: number;
  byTable: { name: string; inserted: number; updated: number; seqScans: number }[];
} {
  const all = [...after.tables].filter(([name]) => name !== 'bench_users').map(([name, now]) => {
    const then = before.tables.get(name) ?? { inserted: 0, updated: 0, indexScans: 0, seqScans: 0 };
    return { name, inserted: now.inserted - then.inserted, updated: now.updated - then.updated, indexScans: now.indexScans - then.indexScans, seqScans: now.seqScans - then.seqScans };
  });
  const byTable = all.filter((table) => table.inserted + table.updated + table.seqScans > 0);
  const sum = (pick: (table: (typeof all)[number]) => number) => all.reduce((total, table) => total + pick(table), 0);
  return {
    xactCommit: after.xactCommit - before.xactCommit,
    xactRollback: after.xactRollback - before.xactRollback,
    sessions: after.sessions - before.sessions,
    changeEvents: after.changeEvents - before.changeEvents,
    inserted: sum((table) => table.inserted),
    updated: sum((table) => table.updated),
    indexScans: sum((table) => table.indexScans),
    seqScans: sum((table) => table.seqScans),
    byTable: byTable.map(({ name, inserted, updated, seqScans }) => ({ name, inserted, updated, seqScans })),
  };
}
