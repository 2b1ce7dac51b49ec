/**
 * LDAP deletion detection by comparing key sets (issue 4, speed): a run records the immutable keys it read
 * from the directory in `sync_seen`, and the sweep is one set difference against `sync_objects`, instead
 * of rewriting every mirrored row's `seen_run` on every run (an UPDATE of the whole mirror per poll).
 */
export const name = 'ldap-seen-keys';

export const sql = `
-- Keys a running sync run read from the directory. Transient: written during one run, deleted when the run
-- ends; UNLOGGED (no WAL) because a run that is lost in a crash is run again from scratch anyway. No index
-- and no foreign key, so the per-page inserts stay cheap; the sweep reads it with EXCEPT (hash or sort set
-- operation), never with a join the planner could turn into a nested loop on stale statistics.
create unlogged table sync_seen (
  run_id bigint not null,
  object_type text not null,
  source_key text not null
);
-- sync_objects.seen_run is no longer read (runs compare key sets); it is still written on upsert.
`;
