import type { Queryable } from './db.js';
import { hot } from './prepared.js';

/** Every authenticated request runs this lookup. */
/** The NOTIFY channel on which migration 010's trigger announces every change to a token (payload: its id). */
export const TOKEN_CHANGES_CHANNEL = 'tether_api_tokens';

const FIND_TOKEN_SQL = hot('find_token', 'select id, name, kind, role, source_id, expires_at, revoked_at, token_hash, credential_id from api_tokens where token_hash = $1');

export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly kind: 'admin' | 'scim';
  readonly role: 'viewer' | 'operator' | 'admin' | null;
  readonly sourceId: string | null;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly tokenHash: string;
  /** The `scimAuth` oauth2 credential an issued access token belongs to; null for API and SCIM tokens. */
  readonly credentialId: string | null;
}

/**
 * API and SCIM tokens, and OAuth2 access tokens issued to `scimAuth` credentials, stored only as SHA-256
 * hashes of high-entropy secrets. Issued access tokens are short-lived and kept out of listings and counts.
 */
export function tokenOps(q: Queryable) {
  return {
    async findTokenByHash(tokenHash: string): Promise<TokenRecord | null> {
      const result = await q.query<{ id: string; name: string; kind: 'admin' | 'scim'; role: TokenRecord['role']; source_id: string | null; expires_at: Date | null; revoked_at: Date | null; token_hash: string; credential_id: string | null }>(
        FIND_TOKEN_SQL,
        [tokenHash],
      );
      const row = result.rows[0];
      return row === undefined ? null : {
        id: row.id, name: row.name, kind: row.kind, role: row.role, sourceId: row.source_id, expiresAt: row.expires_at,
        revokedAt: row.revoked_at, tokenHash: row.token_hash, credentialId: row.credential_id,
      };
    },

    async insertToken(token: Omit<TokenRecord, 'revokedAt' | 'credentialId'>, now: Date): Promise<boolean> {
      const result = await q.query(
        `insert into api_tokens (id, name, token_hash, kind, role, source_id, created_at, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (token_hash) do nothing`,
        [token.id, token.name, token.tokenHash, token.kind, token.role, token.sourceId, now, token.expiresAt],
      );
      return result.rowCount === 1;
    },

    async countActiveTokens(kind: 'admin' | 'scim'): Promise<number> {
      const result = await q.query<{ n: number }>(
        'select count(*) as n from api_tokens where kind = $1 and credential_id is null and revoked_at is null and (expires_at is null or expires_at > now())',
        [kind],
      );
      return result.rows[0]?.n ?? 0;
    },

    async listTokens(): Promise<{ id: string; name: string; kind: string; role: string | null; sourceId: string | null; createdAt: Date; expiresAt: Date | null; revokedAt: Date | null; lastUsedAt: Date | null }[]> {
      const result = await q.query<{ id: string; name: string; kind: string; role: string | null; source_id: string | null; created_at: Date; expires_at: Date | null; revoked_at: Date | null; last_used_at: Date | null }>(
        'select id, name, kind, role, source_id, created_at, expires_at, revoked_at, last_used_at from api_tokens where credential_id is null order by created_at',
      );
      return result.rows.map((row) => ({
        id: row.id, name: row.name, kind: row.kind, role: row.role, sourceId: row.source_id, createdAt: row.created_at,
        expiresAt: row.expires_at, revokedAt: row.revoked_at, lastUsedAt: row.last_used_at,
      }));
    },

    async insertAccessToken(token: { id: string; credentialId: string; tokenHash: string; expiresAt: Date }, now: Date): Promise<void> {
      await q.query(
        `insert into api_tokens (id, name, token_hash, kind, role, source_id, created_at, expires_at, credential_id)
         values ($1, $2, $3, 'scim', null, null, $4, $5, $6)`,
        [token.id, `oauth2:${token.credentialId}`, token.tokenHash, now, token.expiresAt, token.credentialId],
      );
    },

    async deleteExpiredAccessTokens(now: Date): Promise<number> {
      const result = await q.query('delete from api_tokens where credential_id is not null and expires_at <= $1', [now]);
      return result.rowCount;
    },

    async revokeToken(id: string, now: Date): Promise<boolean> {
      const result = await q.query('update api_tokens set revoked_at = $2 where id = $1 and revoked_at is null', [id, now]);
      return result.rowCount === 1;
    },

    async touchToken(id: string, now: Date): Promise<void> {
      // Coarse (one write a minute at most) so authentication does not turn every read into a write.
      await q.query(
        `update api_tokens set last_used_at = $2 where id = $1 and (last_used_at is null or last_used_at < $2::timestamptz - interval '1 minute')`,
        [id, now],
      );
    },
  };
}
