/**
 * Downstream targets (issue 6): read-back verification per (agent, target) and per delivered change event,
 * revocation flags for timing, and a record of drift runs.
 */
export const name = 'targets';

export const sql = `
-- Verified = read back from the target and found equal to the applied version.
alter table target_states add column verified_version integer;
alter table target_states add column verified_at timestamptz;

-- Per change event and target: when the resulting version was verified, and whether it revoked anything
-- (revocation timing is reported separately: it is what non-negotiable #1 is about).
alter table event_deliveries add column verified_at timestamptz;
alter table event_deliveries add column revocation boolean not null default false;
create index event_deliveries_target_applied_idx on event_deliveries (target_id, applied_at desc);

create table drift_runs (
  id bigserial primary key,
  target_id text not null,
  trigger text not null,
  agent_id uuid,
  started_at timestamptz not null,
  finished_at timestamptz,
  checked integer not null default 0,
  repaired integer not null default 0,
  removed integer not null default 0,
  restored integer not null default 0,
  error text
);
create index drift_runs_target_idx on drift_runs (target_id, id desc);
`;
