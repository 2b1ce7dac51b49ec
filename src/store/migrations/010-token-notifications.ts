/**
 * Token changes are announced on a NOTIFY channel, so each Tether process can keep the tokens it has
 * verified in memory and drop them the moment one is revoked, changed or deleted — whether through the
 * admin API, the CLI or plain SQL. The notification is sent when the writing transaction commits. Touches
 * of `last_used_at` (bookkeeping, throttled) announce nothing.
 */
export const name = 'token-notifications';

export const sql = `
create function tether_announce_token_change() returns trigger language plpgsql as $$
begin
  perform pg_notify('tether_api_tokens', coalesce(old.id, new.id)::text);
  return null;
end
$$;

create trigger api_tokens_changed after update on api_tokens for each row
  when ((old.token_hash, old.kind, old.role, old.source_id, old.expires_at, old.revoked_at, old.credential_id)
        is distinct from (new.token_hash, new.kind, new.role, new.source_id, new.expires_at, new.revoked_at, new.credential_id))
  execute function tether_announce_token_change();

create trigger api_tokens_deleted after delete on api_tokens for each row execute function tether_announce_token_change();
`;
