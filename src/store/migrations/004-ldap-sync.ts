/**
 * Directory synchronisation (LDAP / AD): which directory entry each person, group and agent mirrors, the
 * delta cursor and status per source, the history of runs (held ones included), and per-run staging.
 */
export const name = 'ldap-sync';

export const sql = `
-- One row per mirrored directory entry, keyed by its immutable id (entryUUID / objectGUID / nsUniqueId),
-- never by DN: a rename changes dn, not the key. seen_run marks entries a run saw (mark-and-sweep).
create table sync_objects (
  source_id text not null references sources (id),
  object_type text not null check (object_type in ('person', 'group', 'agent')),
  source_key text not null,
  object_id uuid not null,
  dn text not null,
  dn_norm text not null,
  -- Hash of the facts last applied; null forces the next run to apply the entry again.
  facts_hash text,
  seen_run bigint not null,
  primary key (source_id, object_type, source_key)
) with (fillfactor = 70);
create index sync_objects_dn_idx on sync_objects (source_id, dn_norm);
create unique index sync_objects_object_idx on sync_objects (object_id);
-- Deliberately no index on seen_run: every run rewrites it for every entry it sees, and with no index on
-- the column those updates are HOT (heap-only, no index writes; fillfactor leaves room on the page). The
-- sweep reads a source's rows through the primary key instead. (An index here also misled the planner
-- into scanning it for per-key lookups when statistics were missing.)

-- Group members named by DN (or posix user name) that matched no mirrored entry yet; resolved when one appears.
create table sync_pending_members (
  source_id text not null references sources (id),
  group_id uuid not null,
  ref text not null,
  primary key (source_id, group_id, ref)
);
create index sync_pending_members_ref_idx on sync_pending_members (source_id, ref);

-- Per source: the delta cursor (committed with the changes it covers), status, and the run lease.
create table sync_state (
  source_id text primary key references sources (id),
  cursor jsonb,
  cursor_at timestamptz,
  last_attempt_at timestamptz,
  last_success_at timestamptz,
  last_full_at timestamptz,
  last_error text,
  last_error_at timestamptz,
  lease_owner bigint,
  lease_until timestamptz
);

create table sync_runs (
  id bigserial primary key,
  source_id text not null references sources (id),
  mode text not null check (mode in ('delta', 'full')),
  trigger text not null,
  status text not null check (status in ('running', 'succeeded', 'failed', 'held', 'confirmed', 'discarded', 'superseded')),
  started_at timestamptz not null,
  finished_at timestamptz,
  seen integer not null default 0,
  changed integer not null default 0,
  deleted integer not null default 0,
  deactivated integer not null default 0,
  population integer,
  held_reason text,
  -- A confirmed held run's removal count: the next run may remove up to about this many.
  confirmed_removals integer,
  decided_by text,
  decided_at timestamptz,
  error text
);
create index sync_runs_source_idx on sync_runs (source_id, id desc);
create unique index sync_runs_one_held on sync_runs (source_id) where status = 'held';

-- Facts a run will apply, staged so the circuit breaker can decide before anything changes.
create table sync_staging (
  run_id bigint not null references sync_runs (id) on delete cascade,
  seq bigserial,
  object_type text not null,
  source_key text not null,
  facts jsonb not null,
  facts_hash text not null,
  primary key (run_id, seq)
);
`;
