import type { Logger } from 'pino';
import { createConnector, type ConnectorDeps } from '../../connectors/registry.js';
import { createBullQueues, type BullQueues, type QueueTarget } from '../../jobs/bullmq.js';
import { authenticateToken, type Principal } from '../app/auth/tokens.js';
import type { Policy, TargetConnector } from '../app/ports.js';
import { loadConfigFile, type TetherConfig } from '../config/file.js';
import type { Env } from '../config/env.js';
import { createScimAuth, type ScimAuth } from '../http/auth/scim-auth.js';
import { createPgDb, createPgliteDb } from '../store/db-factory.js';
import type { Db } from '../store/db.js';
import { createStore, type Store } from '../store/index.js';
import { migrate } from '../store/migrate.js';
import { bootstrapTokens, syncPolicy } from './bootstrap.js';
import { createMetrics, type Metrics } from './metrics.js';
import { ensureRedis, type RedisHandle } from './redis.js';
import { resolve } from 'node:path';

export interface Container {
  readonly env: Env;
  readonly config: TetherConfig;
  readonly logger: Logger;
  readonly db: Db;
  readonly store: Store;
  readonly redis: RedisHandle;
  readonly queues: BullQueues;
  readonly metrics: Metrics;
  readonly connectors: ReadonlyMap<string, TargetConnector>;
  readonly queueTargets: readonly QueueTarget[];
  readonly clock: () => Date;
  /** SCIM credentials configured in tether.yaml `scimAuth`, and the OAuth2 token endpoint's issuer. */
  readonly scimAuth: ScimAuth;
  policy(): Policy;
  /** Database API/SCIM tokens, and OAuth2 access tokens issued to `scimAuth` credentials. */
  authenticate(token: string): Promise<Principal | null>;
  close(): Promise<void>;
}

export async function openDatabase(env: Env): Promise<Db> {
  if (env.DATABASE_URL !== undefined) return createPgDb({ connectionString: env.DATABASE_URL, maxConnections: env.DATABASE_POOL_MAX });
  return createPgliteDb(resolve(env.TETHER_DATA_DIR, 'pglite'));
}

/** The composition root: reads config once, builds every client, wires ports to adapters. */
export async function buildContainer(env: Env, logger: Logger, connectorDeps: Partial<ConnectorDeps> = {}): Promise<Container> {
  const config = loadConfigFile(env.TETHER_CONFIG);
  const clock = () => new Date();
  const db = await openDatabase(env);
  try {
    await migrate(db);
    const store = createStore(db);
    const { policy, recompute } = await syncPolicy(store, config, clock());
    if (recompute > 0) logger.info({ sponsors: recompute }, 'grant rules changed: every sponsor queued for recompute');
    const defaultSource = config.sources[0];
    if (defaultSource === undefined) throw new Error('config has no source');
    await bootstrapTokens(store, {
      adminToken: env.TETHER_BOOTSTRAP_ADMIN_TOKEN,
      scimToken: env.TETHER_BOOTSTRAP_SCIM_TOKEN,
      defaultSourceId: defaultSource.id,
      dataDir: env.TETHER_DATA_DIR,
      logger,
      now: clock(),
    });
    const redis = await ensureRedis({ url: env.REDIS_URL, dataDir: env.TETHER_DATA_DIR, autostart: env.TETHER_AUTOSTART_REDIS, logger });
    const queueTargets = config.targets.map((target) => ({ id: target.id, maxAttempts: target.maxAttempts, backoffMs: target.backoffMs, concurrency: target.concurrency }));
    const queues = createBullQueues({ redisUrl: redis.url, prefix: env.TETHER_QUEUE_PREFIX, targets: queueTargets });
    const connectors = new Map(config.targets.map((target) => [target.id, createConnector(target, { fetch: globalThis.fetch, clock, ...connectorDeps })]));
    const scimAuth = createScimAuth({ credentials: config.scimAuth, accessTokens: store, clock, logger });
    const metrics = createMetrics({
      outboxPending: async () => (await store.readModels.storeStatus([])).outbox.pending,
    });
    return {
      env, config, logger, db, store, redis, queues, metrics, connectors, queueTargets, clock, scimAuth,
      policy: () => policy,
      authenticate: (token) => authenticateToken(store, token, clock(), (credentialId) => scimAuth.credentials.accessTokenPrincipal(credentialId)),
      async close() {
        await queues.close();
        await redis.stop();
        await db.close();
      },
    };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}
