import type { Logger } from 'pino';
import { createLdapScanner } from '../../connectors/ldap/scanner.js';
import { createScanThreads } from './ldap-scan-thread.js';
import { createConnector, type ConnectorDeps } from '../../connectors/registry.js';
import { createWebhookNotifier } from '../../connectors/webhook/notifier.js';
import { createBullQueues, type BullQueues, type QueueTarget } from '../../jobs/bullmq.js';
import { cacheTokenLookups } from '../app/auth/token-cache.js';
import { authenticateToken, coalesceLookups, throttleTouches, type Principal } from '../app/auth/tokens.js';
import { decideHeldRun, runDirectorySync, type SyncOutcome } from '../app/directory/ldap-sync.js';
import { runView, syncView } from '../app/directory/sync-status.js';
import type { NotificationSender } from '../app/governance/notices.js';
import type { DownstreamConnector, Policy } from '../app/ports.js';
import type { DirectorySyncJob } from '../../jobs/queues.js';
import type { SourceApi } from '../http/api/source-routes.js';
import type { TargetApi } from '../http/api/target-routes.js';
import { runDriftCheck, type DriftReport } from '../app/pipeline/drift.js';
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
import { Redis } from 'ioredis';
import type { AgentHistoryApi } from '../http/api/history-routes.js';
import type { PeopleApi, PersonDetail } from '../http/api/people-routes.js';
import { parseIdpMetadata } from '../http/auth/saml-metadata.js';
import { createSamlSignOn, type SamlSettings } from '../http/auth/saml.js';
import { sessionMiddleware } from '../http/auth/session.js';
import type { UiDeps } from '../http/ui/deps.js';
import type { PersonRecord } from '../app/records.js';
import { watchTokenChanges } from './token-watch.js';

export interface Container {
  readonly env: Env;
  readonly config: TetherConfig;
  readonly logger: Logger;
  readonly db: Db;
  readonly store: Store;
  readonly redis: RedisHandle;
  readonly queues: BullQueues;
  readonly metrics: Metrics;
  readonly connectors: ReadonlyMap<string, DownstreamConnector>;
  readonly queueTargets: readonly QueueTarget[];
  /** Notification webhooks (`notifications.webhooks`): their queues' settings, and the sender their worker uses. */
  readonly notificationQueues: readonly QueueTarget[];
  readonly notifier: NotificationSender;
  readonly clock: () => Date;
  /** SCIM credentials configured in tether.yaml `scimAuth`, and the OAuth2 token endpoint's issuer. */
  readonly scimAuth: ScimAuth;
  /** LDAP sources: runs (job processor), connection checks, and the admin API's view of them. */
  readonly directory: DirectorySync;
  /** Targets: admin API view, drift runs (job processor and on demand), startup checks. */
  readonly targets: TargetOps;
  policy(): Policy;
  /** The dashboard's sign-in and sessions; null when tether.yaml has no `admin.saml`. */
  readonly adminUi: AdminUi | null;
  /** People and agent history for the admin API and dashboard. */
  readonly people: PeopleApi;
  readonly history: AgentHistoryApi;
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
    const connectors = new Map(config.targets.map((target) => [target.id, createConnector(target, { fetch: globalThis.fetch, clock, ...connectorDeps })]));
    const queueTargets = config.targets.map((target) => ({
      id: target.id, maxAttempts: target.maxAttempts, backoffMs: target.backoffMs, concurrency: target.concurrency,
      // A target that cannot be read back (a webhook without readUrl) has nothing to check: no scheduled
      // drift job, which would only fail and log a warning every interval.
      rateLimit: target.rateLimit, driftIntervalMs: connectors.get(target.id)?.canRead === true ? target.driftIntervalSeconds * 1000 : 0,
    }));
    const notificationQueues = config.notifications.webhooks.map((webhook) => ({
      id: webhook.id, maxAttempts: webhook.maxAttempts, backoffMs: webhook.backoffMs, concurrency: webhook.concurrency,
    }));
    const queues = createBullQueues({ redisUrl: redis.url, prefix: env.TETHER_QUEUE_PREFIX, targets: queueTargets, notificationWebhooks: notificationQueues });
    const notifier = createWebhookNotifier(config.notifications.webhooks, { fetch: connectorDeps.fetch ?? globalThis.fetch, clock });
    // Verified tokens are cached only while the store's token change announcements arrive (token-cache.ts).
    const tokenCache = cacheTokenLookups(throttleTouches(store, 60_000), { maxEntries: 10_000, maxAgeMs: 60_000 });
    const tokenStore = coalesceLookups(tokenCache);
    const tokenWatch = watchTokenChanges(db, tokenCache, logger);
    const scimAuth = createScimAuth({ credentials: config.scimAuth, accessTokens: store, clock, logger });
    const metrics = createMetrics({
      outboxPending: async () => (await store.readModels.storeStatus([])).outbox.pending,
      queueCounts: () => queues.counts(),
    });
    const directory = buildDirectorySync(config, store, queues, clock, logger, () => policy);
    const targets = buildTargetOps(config, store, queues, connectors, metrics, clock, logger);
    const adminUi = buildAdminUi(env, config, redis.url, logger);
    return {
      env, config, logger, db, store, redis, queues, metrics, connectors, queueTargets, notificationQueues, notifier, clock, scimAuth, directory, adminUi, targets,
      people: buildPeopleApi(config, store),
      history: buildHistoryApi(store),
      policy: () => policy,
      authenticate: (token) => {
        tokenWatch.ensureStarted();
        return authenticateToken(tokenStore, token, clock(), (credentialId) => scimAuth.credentials.accessTokenPrincipal(credentialId));
      },
      async close() {
        adminUi?.redis.disconnect();
        await tokenWatch.close();
        await queues.close();
        await directory.close();
        await redis.stop();
        await db.close();
      },
    };
  } catch (error) {
    await db.close().catch(() => undefined);
    throw error;
  }
}

/** An admin action's audit entry in its own transaction (the action itself is a queue operation, not a row). */
function auditor(store: Store, clock: () => Date) {
  return (actor: string, action: string, subjectType: string, subjectId: string, detail: Record<string, unknown>) =>
    store.transaction((tx) => tx.appendAudit({ at: clock(), actor, action, subjectType, subjectId, detail }));
}

export interface DirectorySync {
  readonly api: SourceApi;
  /** The job processor: one delta poll or full reconciliation. */
  run(job: DirectorySyncJob): Promise<SyncOutcome>;
  /** Binds to every LDAP source and logs a clear error for each that fails (startup check). */
  checkAll(): Promise<void>;
  /** Job schedulers for every LDAP source. */
  schedule(): Promise<void>;
  /** Ends the kept scan threads (after the workers have stopped). */
  close(): Promise<void>;
}

function buildDirectorySync(config: TetherConfig, store: Store, queues: BullQueues, clock: () => Date, logger: Logger, policy: () => Policy): DirectorySync {
  const ldap = new Map(config.sources.flatMap((source) => (source.kind === 'ldap' ? [[source.id, source.ldap] as const] : [])));
  const ldapConfig = (sourceId: string) => {
    const found = ldap.get(sourceId);
    if (found !== undefined) return found;
    if (config.sources.some((source) => source.id === sourceId)) {
      throw new AppError('invalid_input', `source ${sourceId} is not an LDAP source`, { detail: `Source ${sourceId} receives SCIM pushes; only LDAP sources are polled` });
    }
    throw new AppError('not_found', 'source not found', { detail: `Source ${sourceId} not found` });
  };
  const scanThreads = createScanThreads();
  const scanner = (sourceId: string) => {
    const source = ldapConfig(sourceId);
    return scanThreads.scanner(source, createLdapScanner(source, { clock }));
  };
  const check = async (sourceId: string) => {
    const probe = scanner(sourceId);
    try {
      return await probe.check();
    } finally {
      await probe.close();
    }
  };
  const audit = auditor(store, clock);
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
      await audit(actor, 'source.reconcile_requested', 'source', sourceId, {});
    },
    check,
    async runs(sourceId, limit) {
      return (await store.listRuns(sourceId, limit)).map(runView);
    },
    async decide(sourceId, runId, decision, actor) {
      ldapConfig(sourceId);
      const run = await decideHeldRun({ store, clock }, sourceId, runId, decision, actor);
      if (decision === 'confirmed') await queues.enqueueDirectorySync({ sourceId, mode: 'full', trigger: actor, confirmedRunId: runId });
      await audit(actor, `source.held_run_${decision}`, 'source', sourceId, { runId, heldReason: run.heldReason });
      return runView(run);
    },
  };
  return {
    api,
    run: (job) =>
      runDirectorySync(
        { sourceId: job.sourceId, store, scanner: scanner(job.sourceId), queue: queues, clock, logger, massChange: ldapConfig(job.sourceId).massChange, policy, governance: () => config.policy },
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
    close: () => scanThreads.close(),
  };
}

/** The dashboard's runtime pieces; the HTTP app adds the admin API's data sources, audit, logger and clock. */
export type AdminUi = Omit<UiDeps, 'api' | 'audit' | 'logger' | 'clock'> & { readonly redis: Redis };

const DEFAULT_HOSTS = new Set(['0.0.0.0', '::', '']);

/** Tether's public URL: TETHER_PUBLIC_URL, else the address it listens on (fine for a laptop, not behind a proxy). */
export function publicUrl(env: Env): URL {
  if (env.TETHER_PUBLIC_URL !== undefined) return new URL(env.TETHER_PUBLIC_URL);
  const host = DEFAULT_HOSTS.has(env.HOST) ? 'localhost' : env.HOST.includes(':') ? `[${env.HOST}]` : env.HOST;
  return new URL(`http://${host}:${env.PORT}`);
}

function samlSettings(config: NonNullable<TetherConfig['admin']['saml']>, base: URL): SamlSettings {
  const invalid = (key: string, message: string) => new AppError('invalid_config', `${key}: ${message}`);
  let idp = { entityId: config.idpIssuer, entryPoint: config.entryPoint, certs: config.idpCert === undefined ? [] : [config.idpCert.reveal()], logoutUrl: config.logoutUrl ?? null };
  if (config.idpMetadata !== undefined) {
    const parsed = parseIdpMetadata(config.idpMetadata.reveal());
    if (typeof parsed === 'string') throw invalid('admin.saml.idpMetadata', `${config.idpMetadata.reference} ${parsed}`);
    // Explicit keys win over the metadata, so a pinned certificate or a different endpoint can be forced.
    idp = {
      entityId: config.idpIssuer ?? parsed.entityId,
      entryPoint: config.entryPoint ?? parsed.entryPoint,
      certs: idp.certs.length > 0 ? idp.certs : [...parsed.certs],
      logoutUrl: config.logoutUrl ?? parsed.logoutUrl,
    };
  }
  if (idp.entityId === undefined || idp.entryPoint === undefined) throw invalid('admin.saml.idpMetadata', 'give idpMetadata, or entryPoint + idpIssuer + idpCert');
  return {
    spEntityId: config.issuer,
    audience: config.audience ?? config.issuer,
    callbackUrl: new URL('/ui/saml/acs', base).toString(),
    logoutCallbackUrl: new URL('/ui/saml/slo', base).toString(),
    entryPoint: idp.entryPoint,
    idpIssuer: idp.entityId,
    idpCerts: idp.certs,
    logoutUrl: idp.logoutUrl,
    signing: config.signingKey === undefined || config.signingCert === undefined ? null : { privateKey: config.signingKey.reveal(), cert: config.signingCert.reveal() },
    wantAuthnResponseSigned: config.wantAuthnResponseSigned,
    clockSkewMs: config.acceptedClockSkewSeconds * 1000,
    maxAssertionAgeMs: config.maxAssertionAgeSeconds * 1000,
    groupAttribute: config.groupAttribute,
    roles: config.roles,
  };
}

function buildAdminUi(env: Env, config: TetherConfig, redisUrl: string, logger: Logger): AdminUi | null {
  const saml = config.admin.saml;
  if (saml === undefined) return null;
  if (env.TETHER_SESSION_SECRET === undefined) {
    throw new AppError('invalid_config', 'TETHER_SESSION_SECRET must be set (at least 32 random characters, the same on every instance) when admin.saml is configured');
  }
  const base = publicUrl(env);
  const settings = samlSettings(saml, base);
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: false });
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'dashboard session store: Redis error'));
  const session = {
    secret: env.TETHER_SESSION_SECRET,
    secure: env.TETHER_COOKIE_SECURE ?? base.protocol === 'https:',
    idleMs: config.admin.session.idleMinutes * 60_000,
    absoluteMs: config.admin.session.absoluteHours * 3_600_000,
  };
  const formOrigins = [...new Set([settings.entryPoint, settings.logoutUrl].flatMap((url) => (url === null ? [] : [new URL(url).origin])))];
  return {
    redis,
    saml: createSamlSignOn(settings, { redis, keyPrefix: env.TETHER_QUEUE_PREFIX, logger }),
    session: { ...session, middleware: sessionMiddleware(session, redis, env.TETHER_QUEUE_PREFIX) },
    publicOrigin: base.origin,
    formOrigins,
  };
}

function personDetail(person: PersonRecord, groups: readonly { id: string; display: string }[]): PersonDetail {
  return {
    id: person.id, sourceId: person.sourceId, userName: person.userName, displayName: person.displayName, active: person.active,
    externalId: person.externalId, attributes: person.attributes, groups, updatedAt: person.updatedAt,
  };
}

function buildPeopleApi(config: TetherConfig, store: Store): PeopleApi {
  const sourceIds = config.sources.map((source) => source.id);
  return {
    async search({ q, sourceId, limit }) {
      const filter = q === undefined ? null : { op: 'or' as const, filters: [{ op: 'co' as const, path: 'userName', value: q }, { op: 'co' as const, path: 'displayName', value: q }] };
      const pages = await Promise.all((sourceId === undefined ? sourceIds : sourceIds.filter((id) => id === sourceId)).map((id) =>
        store.listPersons(id, { filter, startIndex: 1, count: limit, sortBy: 'userName', sortOrder: 'ascending' })));
      return pages
        .flatMap((page) => page.items)
        .sort((left, right) => left.userName.localeCompare(right.userName))
        .slice(0, limit)
        .map((person) => ({ id: person.id, sourceId: person.sourceId, userName: person.userName, displayName: person.displayName, active: person.active }));
    },
    async get(id) {
      for (const sourceId of sourceIds) {
        const person = await store.getPerson(sourceId, id);
        if (person !== null) return personDetail(person, (await store.groupsOf([id])).get(id) ?? []);
      }
      return null;
    },
    sponsoredAgents: (personId) => store.readModels.listAgents({ sponsorId: personId, limit: 500 }),
  };
}

function buildHistoryApi(store: Store): AgentHistoryApi {
  return {
    async versions(agentId, limit) {
      if ((await store.getAgentRecord(agentId)) === null) return null;
      const latest = await store.latestVersion(agentId);
      if (latest === null) return [];
      const numbers = Array.from({ length: Math.min(limit, latest.version) }, (_, index) => latest.version - index);
      const versions = await Promise.all(numbers.map(async (version) => (version === latest.version ? latest : store.version(agentId, version))));
      return versions.flatMap((version) => (version === null ? [] : [{
        version: version.version, sponsorId: version.sponsorId, computedAt: version.computedAt, reason: version.reason,
        tools: version.entitlements.map((entitlement) => entitlement.toolId), denied: version.denied, changeEventIds: version.changeEventIds,
      }]));
    },
  };
}

export interface TargetOps {
  readonly api: TargetApi;
  /** The drift job processor (and the on-demand check of one agent). */
  drift(targetId: string, trigger: string, agentId?: string): Promise<DriftReport>;
  /** Probes every target and logs a clear error for each that fails (startup check). */
  checkAll(): Promise<void>;
}

const DAY_MS = 86_400_000;

function buildTargetOps(
  config: TetherConfig, store: Store, queues: BullQueues, connectors: ReadonlyMap<string, DownstreamConnector>, metrics: Metrics, clock: () => Date, logger: Logger,
): TargetOps {
  const connectorOf = (targetId: string) => {
    const connector = connectors.get(targetId);
    if (connector === undefined) throw new AppError('not_found', 'target not found', { detail: `Target ${targetId} not found` });
    return connector;
  };
  const drift = (targetId: string, trigger: string, agentId?: string) =>
    runDriftCheck(
      { store, connectors, clock, logger, onRepair: (target, removed, restored) => metrics.observeDriftRepair(target, removed, restored) },
      targetId,
      { trigger, ...(agentId === undefined ? {} : { agentId }) },
    );
  const empty = { count: 0, p50: null, p95: null, p99: null };
  const audit = auditor(store, clock);
  const api: TargetApi = {
    async list() {
      const [states, timings, status] = await Promise.all([
        store.targetStateSummaries(),
        store.revocationTimings(new Date(clock().getTime() - DAY_MS)),
        store.readModels.storeStatus(config.targets.map((target) => ({ id: target.id, kind: target.kind }))),
      ]);
      return Promise.all(config.targets.map(async (target) => {
        const state = states.find((row) => row.targetId === target.id);
        const timing = timings.find((row) => row.targetId === target.id);
        const [dead, runs] = await Promise.all([queues.deadLetters(target.id, 0, 1).catch(() => ({ total: 0 })), store.driftRuns(target.id, 1)]);
        return {
          id: target.id, kind: target.kind, canRead: connectorOf(target.id).canRead,
          agents: state?.agents ?? 0, verified: state?.verified ?? 0,
          behind: status.targets.find((row) => row.id === target.id)?.behind ?? 0,
          deadLetters: dead.total,
          lastAppliedAt: state?.lastAppliedAt ?? null, lastVerifiedAt: state?.lastVerifiedAt ?? null,
          revocationSeconds: { applied: timing?.applied ?? empty, verified: timing?.verified ?? empty },
          lastDrift: runs[0] ?? null,
        };
      }));
    },
    deadLetters: (targetId, offset, limit) => queues.deadLetters(connectorOf(targetId).id, offset, limit),
    // Audited here, not per transport, so API, CLI and dashboard retries all leave the same record.
    async retry(targetId, jobId, actor) {
      const retried = await queues.retryDeadLetter(connectorOf(targetId).id, jobId);
      if (retried) {
        logger.info({ targetId, jobId, actor }, 'dead letter queued again');
        await audit(actor, 'target.dead_letter_retried', 'target', targetId, { jobId });
      }
      return retried;
    },
    async retryAll(targetId, actor) {
      const retried = await queues.retryAllDeadLetters(connectorOf(targetId).id);
      logger.info({ targetId, retried, actor }, 'dead letters queued again');
      await audit(actor, 'target.dead_letters_retried', 'target', targetId, { retried });
      return retried;
    },
    async drift(targetId, agentId, actor) {
      const connector = connectorOf(targetId);
      if (!connector.canRead) throw new AppError('invalid_input', `target ${targetId} cannot be read back`, { detail: `Target ${targetId} cannot be read back (a webhook needs readUrl)` });
      if (agentId !== undefined) return drift(targetId, actor, agentId);
      await queues.enqueueDrift({ targetId, trigger: actor });
      return null;
    },
    driftRuns: (targetId, limit) => store.driftRuns(targetId, limit),
    check: (targetId) => connectorOf(targetId).check(),
  };
  return {
    api,
    drift,
    async checkAll() {
      for (const connector of connectors.values()) {
        await connector.check().then(
          (result) => logger.info({ targetId: connector.id, detail: result.detail }, 'target reachable'),
          (error: unknown) => logger.error({ targetId: connector.id, err: error }, error instanceof Error ? error.message : 'target check failed'),
        );
      }
    },
  };
}
