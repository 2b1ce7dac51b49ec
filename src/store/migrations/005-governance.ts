/**
 * Delegation governance (issue 5): pending grants (growth waiting for confirmation), the succession state of
 * agents whose sponsor left, and the history of group memberships so explanations can answer for the past.
 */
export const name = 'governance';

export const sql = `
-- Growth of a write/orchestrate tool waits here, with the provenance that would grant it, until the sponsor
-- or an admin confirms it (it then takes effect through a recompute) or rejects it. At most one open grant
-- (pending, confirmed-not-yet-applied, rejected) per agent and tool.
create table pending_grants (
  id uuid primary key,
  agent_id uuid not null references agents (id),
  tool_id text not null,
  risk text not null check (risk in ('read', 'write', 'orchestrate')),
  sponsor_id uuid not null,
  entitlement jsonb not null,
  status text not null check (status in ('pending', 'confirmed', 'rejected', 'applied', 'withdrawn')),
  created_at timestamptz not null,
  decided_by text,
  decided_at timestamptz,
  closed_at timestamptz
);
create unique index pending_grants_open_key on pending_grants (agent_id, tool_id) where status in ('pending', 'confirmed', 'rejected');
create index pending_grants_agent_idx on pending_grants (agent_id, created_at desc);

-- While an agent waits for a new sponsor: the leaver, the proposed successor and when the grace period ends.
alter table agents add column succession jsonb;
create index agents_pending_reassignment_idx on agents (id) where state = 'pending_reassignment';

-- Group memberships over time, kept by a trigger so every writer (SCIM, LDAP) is covered. Memberships that
-- existed before this migration start at their added_at; their earlier history is unknown.
create table membership_history (
  id bigserial primary key,
  group_id uuid not null,
  member_id uuid not null,
  valid_from timestamptz not null,
  valid_to timestamptz
);
create index membership_history_member_idx on membership_history (member_id, group_id, valid_from);
insert into membership_history (group_id, member_id, valid_from) select group_id, member_id, added_at from memberships;

create function tether_membership_history() returns trigger language plpgsql as $$
begin
  if tg_op = 'INSERT' then
    insert into membership_history (group_id, member_id, valid_from) values (new.group_id, new.member_id, new.added_at);
    return new;
  end if;
  update membership_history set valid_to = now()
   where group_id = old.group_id and member_id = old.member_id and valid_to is null;
  return old;
end
$$;
create trigger memberships_history after insert or delete on memberships
  for each row execute function tether_membership_history();
`;
