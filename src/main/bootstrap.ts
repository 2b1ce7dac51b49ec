import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { generateToken, hashToken } from '../app/auth/tokens.js';
import type { Policy } from '../app/ports.js';
import type { TetherConfig } from '../config/file.js';
import type { Store } from '../store/index.js';

/**
 * Mirrors sources, tools and grant rules from tether.yaml into the store. A changed rule gets a new
 * version and every sponsor gets a recompute row in the same transaction, so no agent keeps a right a
 * stricter rule no longer grants.
 */
export async function syncPolicy(store: Store, config: TetherConfig, now: Date): Promise<{ policy: Policy; recompute: number }> {
  return store.transaction(async (tx) => {
    await tx.lockPolicy();
    await tx.upsertSources(config.sources);
    await tx.upsertTools(config.tools, now);
    const { rules, changed } = await tx.versionRules(config.grantRules, now);
    const sponsors = changed ? await tx.allSponsors() : [];
    await tx.insertOutbox(sponsors.map((personId) => ({ kind: 'recompute', personId, changeEventId: null })));
    const policy: Policy = { catalog: new Map(config.tools.map((tool) => [tool.id, tool])), rules, ceilings: config.ceilings };
    return { policy, recompute: sponsors.length };
  });
}

/**
 * Creates the tokens named by TETHER_BOOTSTRAP_ADMIN_TOKEN / TETHER_BOOTSTRAP_SCIM_TOKEN if absent, so a fresh
 * instance can be driven non-interactively. With neither set and no admin token at all (a first run), it
 * generates both and writes them to <dataDir>/credentials.json (mode 0600); only the path is logged.
 */
export async function bootstrapTokens(
  store: Store,
  options: { adminToken: string | undefined; scimToken: string | undefined; defaultSourceId: string; dataDir: string; logger: Logger; now: Date },
): Promise<void> {
  const insert = (token: string, kind: 'admin' | 'scim', name: string) =>
    store.insertToken(
      { id: crypto.randomUUID(), name, kind, role: kind === 'admin' ? 'admin' : null, sourceId: kind === 'scim' ? options.defaultSourceId : null, expiresAt: null, tokenHash: hashToken(token) },
      options.now,
    );
  if (options.adminToken !== undefined) await insert(options.adminToken, 'admin', 'bootstrap-admin');
  if (options.scimToken !== undefined) await insert(options.scimToken, 'scim', `bootstrap-scim-${options.defaultSourceId}`);
  if (options.adminToken !== undefined || options.scimToken !== undefined) return;
  if ((await store.countActiveTokens('admin')) > 0) return;
  const adminToken = generateToken('admin');
  const scimToken = generateToken('scim');
  await insert(adminToken, 'admin', 'first-run-admin');
  await insert(scimToken, 'scim', `first-run-scim-${options.defaultSourceId}`);
  const path = resolve(options.dataDir, 'credentials.json');
  try {
    mkdirSync(options.dataDir, { recursive: true });
    writeFileSync(path, `${JSON.stringify({ adminToken, scimToken, scimSource: options.defaultSourceId }, null, 2)}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
    options.logger.warn({ path }, 'first run: generated an admin API token and a SCIM token; read them from this file, then delete it');
  } catch (error) {
    options.logger.error({ err: error }, 'first run: could not write credentials; create tokens with `tether tokens create`');
  }
}
