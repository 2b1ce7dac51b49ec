/** The foundation schema. Migrations are append-only: never edit one that has shipped, add the next. */
export const name = 'init';

export const sql = `
create table sources (
  id text primary key,
  kind text not null check (kind in ('scim', 'ldap')),
  display_name text not null,
  created_at timestamptz not null default now()
);

create table persons (
  id uuid primary key,
  source_id text not null references sources (id),
  external_id text,
  user_name text not null,
  display_name text,
  active boolean not null default true,
  -- Flattened attributes that grant rules read (department, title, costCenter, manager, ...).
  attributes jsonb not null default '{}',
  -- The client-writable SCIM representation (no id, meta, groups or password).
  resource jsonb not null default '{}',
  version integer not null default 1,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  deleted_at timestamptz
);
create unique index persons_user_name_key on persons (source_id, lower(user_name)) where deleted_at is null;
create index persons_external_id_idx on persons (source_id, external_id) where deleted_at is null;
create index persons_display_name_idx on persons (source_id, lower(display_name)) where deleted_at is null;

create table groups (
  id uuid primary key,
  source_id text not null references sources (id),
  external_id text,
  display_name text not null,
  resource jsonb not null default '{}',
  version integer not null default 1,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  deleted_at timestamptz
);
create index groups_display_name_idx on groups (source_id, lower(display_name)) where deleted_at is null;
create index groups_external_id_idx on groups (source_id, external_id) where deleted_at is null;

-- One row per (group, member): a membership change touches only the members that changed.
create table memberships (
  group_id uuid not null references groups (id) on delete cascade,
  member_id uuid not null,
  member_type text not null default 'User' check (member_type in ('User', 'Group')),
  -- The label the identity provider sent for this member, if any (shown instead of the member's own name).
  display text,
  added_at timestamptz not null,
  primary key (group_id, member_id)
);
create index memberships_member_idx on memberships (member_id);

create table tools (
  id text primary key,
  system text not null,
  risk text not null check (risk in ('read', 'write', 'orchestrate')),
  updated_at timestamptz not null
);

-- Grant rules come from tether.yaml; a changed definition gets the next version, kept for explanations.
create table grant_rules (
  id text not null,
  version integer not null,
  definition jsonb not null,
  created_at timestamptz not null,
  primary key (id, version)
);

create table agents (
  id uuid primary key,
  name text not null,
  purpose text not null,
  environment text not null check (environment in ('sandbox', 'pilot', 'production')),
  state text not null check (state in ('active', 'pending_reassignment', 'suspended', 'retired')),
  sponsor_id uuid not null references persons (id),
  backup_sponsor_ids uuid[] not null default '{}',
  owner text,
  requested_tools text[] not null,
  expires_at timestamptz,
  delegation_id uuid,
  current_version integer not null default 0,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index agents_sponsor_idx on agents (sponsor_id);
create index agents_backup_sponsors_idx on agents using gin (backup_sponsor_ids);

create table delegations (
  id uuid primary key,
  agent_id uuid not null references agents (id),
  approver text not null,
  justification text not null,
  tools text[] not null,
  target_systems text[] not null default '{}',
  not_before timestamptz,
  expires_at timestamptz,
  created_at timestamptz not null
);
create index delegations_agent_idx on delegations (agent_id);

-- Immutable, versioned effective entitlements with provenance; agents.current_version is the CAS guard.
create table entitlement_versions (
  agent_id uuid not null references agents (id),
  version integer not null,
  sponsor_id uuid not null,
  entitlements jsonb not null,
  denied jsonb not null,
  reason text not null,
  change_event_ids uuid[] not null default '{}',
  computed_at timestamptz not null,
  primary key (agent_id, version)
);

-- What each target holds, per agent: the version last applied there.
create table target_states (
  agent_id uuid not null references agents (id),
  target_id text not null,
  applied_version integer not null,
  applied_at timestamptz not null,
  primary key (agent_id, target_id)
);

create table change_events (
  id uuid primary key,
  source_id text,
  origin text not null,
  kind text not null,
  subject_type text not null,
  subject_id uuid,
  detail jsonb not null default '{}',
  source_time timestamptz,
  received_at timestamptz not null,
  committed_at timestamptz not null,
  computed_at timestamptz
);
create index change_events_received_idx on change_events (received_at desc, id desc);

create table event_deliveries (
  change_event_id uuid not null references change_events (id),
  target_id text not null,
  agent_id uuid not null,
  version integer not null,
  applied_at timestamptz not null,
  primary key (change_event_id, target_id, agent_id)
);

-- Append-only, hash-chained: hash = sha256(prev_hash || canonical entry). Writers only insert (no lock, so
-- audited transactions commit concurrently); the sealer chains committed entries in chain_seq order. txid
-- tells the sealer which entries are safely committed (older than every transaction still running).
create table audit_log (
  seq bigserial primary key,
  txid xid8 not null default pg_current_xact_id(),
  at timestamptz not null,
  actor text not null,
  action text not null,
  subject_type text not null,
  subject_id text,
  detail jsonb not null default '{}',
  chain_seq bigint unique,
  prev_hash text,
  hash text unique
);
create index audit_log_unsealed on audit_log (seq) where chain_seq is null;

create table outbox (
  id bigserial primary key,
  kind text not null check (kind in ('recompute', 'push')),
  person_id uuid,
  agent_id uuid,
  version integer,
  target_id text,
  change_event_id uuid,
  created_at timestamptz not null,
  done_at timestamptz
);
create index outbox_pending_idx on outbox (id) where done_at is null;
create index outbox_recompute_idx on outbox (person_id) where done_at is null and kind = 'recompute';
create index outbox_push_idx on outbox (agent_id, target_id) where done_at is null and kind = 'push';

create table api_tokens (
  id uuid primary key,
  name text not null,
  token_hash text not null unique,
  kind text not null check (kind in ('admin', 'scim')),
  role text check (role in ('viewer', 'operator', 'admin')),
  source_id text references sources (id),
  created_at timestamptz not null,
  expires_at timestamptz,
  revoked_at timestamptz,
  last_used_at timestamptz
);
`;
