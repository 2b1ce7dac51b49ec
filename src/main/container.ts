import type { Logger } from 'pino';
import { createLdapScanner } from '../../connectors/ldap/scanner.js';
import { createConnector, type ConnectorDeps } from '../../connectors/registry.js';
import { createBullQueues, type BullQueues, type QueueTarget } from '../../jobs/bullmq.js';
import { authenticateToken, throttleTouches, type Principal } from '../app/auth/tokens.js';
import { decideHeldRun, runDirectorySync, type SyncOutcome } from '../app/directory/ldap-sync.js';
import { runView, syncView } from '../app/directory/sync-status.js';
import type { Policy, TargetConnector } from '../app/ports.js';
import type { DirectorySyncJob } from '../../jobs/queues.js';
import type { SourceApi } from '../http/api/source-routes.js';
import { AppError } from '../domain/errors.js';
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
  /** LDAP sources: runs (job processor), connection checks, and the admin API's view of them. */
  readonly directory: DirectorySync;
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
    const defaultSource = config.sources.find((source) => source.kind === 'scim') ?? config.sources[0];
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
    const tokenStore = throttleTouches(store, 60_000);
    const scimAuth = createScimAuth({ credentials: config.scimAuth, accessTokens: store, clock, logger });
    const metrics = createMetrics({
      outboxPending: async () => (await store.readModels.storeStatus([])).outbox.pending,
    });
    const directory = buildDirectorySync(config, store, queues, clock, logger);
    return {
      env, config, logger, db, store, redis, queues, metrics, connectors, queueTargets, clock, scimAuth, directory,
      policy: () => policy,
      authenticate: (token) => authenticateToken(tokenStore, token, clock(), (credentialId) => scimAuth.credentials.accessTokenPrincipal(credentialId)),
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

export interface DirectorySync {
  readonly api: SourceApi;
  /** The job processor: one delta poll or full reconciliation. */
  run(job: DirectorySyncJob): Promise<SyncOutcome>;
  /** Binds to every LDAP source and logs a clear error for each that fails (startup check). */
  checkAll(): Promise<void>;
  /** Job schedulers for every LDAP source. */
  schedule(): Promise<void>;
}

function buildDirectorySync(config: TetherConfig, store: Store, queues: BullQueues, clock: () => Date, logger: Logger): DirectorySync {
  const ldap = new Map(config.sources.flatMap((source) => (source.kind === 'ldap' ? [[source.id, source.ldap] as const] : [])));
  const ldapConfig = (sourceId: string) => {
    const found = ldap.get(sourceId);
    if (found !== undefined) return found;
    if (config.sources.some((source) => source.id === sourceId)) {
      throw new AppError('invalid_input', `source ${sourceId} is not an LDAP source`, { detail: `Source ${sourceId} receives SCIM pushes; only LDAP sources are polled` });
    }
    throw new AppError('not_found', 'source not found', { detail: `Source ${sourceId} not found` });
  };
  const scanner = (sourceId: string) => createLdapScanner(ldapConfig(sourceId), { clock });
  const check = async (sourceId: string) => {
    const probe = scanner(sourceId);
    try {
      return await probe.check();
    } finally {
      await probe.close();
    }
  };
  const api: SourceApi = {
    async list() {
      const rows = new Map((await store.syncStatus()).map((row) => [row.sourceId, row]));
      const now = clock();
      return config.sources.map((source) => {
        const row = rows.get(source.id);
        return { id: source.id, kind: source.kind, displayName: source.displayName, sync: source.kind === 'ldap' && row !== undefined ? syncView(row, now) : null };
      });
    },
    async reconcile(sourceId, actor) {
      ldapConfig(sourceId);
      await queues.enqueueDirectorySync({ sourceId, mode: 'full', trigger: actor });
    },
    check,
    async runs(sourceId, limit) {
      return (await store.listRuns(sourceId, limit)).map(runView);
    },
    async decide(sourceId, runId, decision, actor) {
      ldapConfig(sourceId);
      const run = await decideHeldRun({ store, clock }, sourceId, runId, decision, actor);
      if (decision === 'confirmed') await queues.enqueueDirectorySync({ sourceId, mode: 'full', trigger: actor, confirmedRunId: runId });
      return runView(run);
    },
  };
  return {
    api,
    run: (job) =>
      runDirectorySync(
        { sourceId: job.sourceId, store, scanner: scanner(job.sourceId), queue: queues, clock, logger, massChange: ldapConfig(job.sourceId).massChange },
        { mode: job.mode, trigger: job.trigger, ...(job.confirmedRunId === undefined ? {} : { confirmedRunId: job.confirmedRunId }) },
      ),
    async checkAll() {
      for (const sourceId of ldap.keys()) {
        await check(sourceId).then(
          (result) => logger.info({ sourceId, server: result.server }, 'LDAP source reachable and bound'),
          (error: unknown) => logger.error({ sourceId, err: error }, error instanceof Error ? error.message : 'LDAP source check failed'),
        );
      }
    },
    async schedule() {
      await queues.scheduleDirectorySync([...ldap.values()].map((source) => ({
        sourceId: source.id, pollMs: source.pollIntervalSeconds * 1000, reconcileMs: source.reconcileIntervalMinutes * 60_000,
      })));
    },
  };
}
