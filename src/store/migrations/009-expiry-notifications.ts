/**
 * Expiry notifications (issue 5, scope 5): each recorded notice doubles as the outbox row of its webhook
 * event. `queued_at` is set once the event is on every subscribed notification webhook's queue; until then
 * the sweep keeps handing it over, so a crash between commit and enqueue never loses an event.
 */
export const name = 'expiry-notifications';

export const sql = `
alter table expiry_notices add column sponsor_id uuid, add column queued_at timestamptz;

-- Notices recorded before notification webhooks existed were never meant to be delivered.
update expiry_notices set queued_at = sent_at;

create index expiry_notices_unqueued_idx on expiry_notices (sent_at) where queued_at is null;
`;
