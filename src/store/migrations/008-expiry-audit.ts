/**
 * Expiry and audit search (issue 5): a record of expiry notices and expiries already acted on, so each is
 * sent or acted on once per agent and expiry date, and indexes for the expiry sweep and the audit search.
 */
export const name = 'expiry-audit';

export const sql = `
-- One row per (agent, agent-or-delegation expiry, notice kind): 'expiring' before the date (notice window),
-- 'expired' once the sweep has queued the recompute that takes the rights away. A new expiry date (an
-- extended agent, a new delegation) gets notices of its own.
create table expiry_notices (
  agent_id uuid not null references agents (id),
  subject text not null check (subject in ('agent', 'delegation')),
  expires_at timestamptz not null,
  kind text not null check (kind in ('expiring', 'expired')),
  delegation_id uuid,
  sent_at timestamptz not null,
  primary key (agent_id, subject, expires_at, kind)
);

create index agents_expires_idx on agents (expires_at) where expires_at is not null and state <> 'retired';
create index delegations_expires_idx on delegations (expires_at) where expires_at is not null;

-- Audit search: by time range and by subject; other filters ride on the seq (primary key) order.
create index audit_log_at_idx on audit_log (at, seq);
create index audit_log_subject_idx on audit_log (subject_type, subject_id, seq);
`;
