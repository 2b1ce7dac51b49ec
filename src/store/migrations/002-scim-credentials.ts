/**
 * OAuth2 access tokens issued to `scimAuth` credentials live in api_tokens (by hash, with their expiry) so
 * that every replica accepts them; credential_id binds each one to the credential whose scope it carries.
 */
export const name = 'scim-credentials';

export const sql = `
alter table api_tokens add column credential_id text;
create index api_tokens_issued_expiry on api_tokens (expires_at) where credential_id is not null;
`;
