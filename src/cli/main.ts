#!/usr/bin/env node
import { Command, Option } from 'commander';
import { isAppError } from '../domain/errors.js';
import { parseEnv, type Env } from '../config/env.js';
import type { Running } from '../main/processes.js';
import { registerAuditCommands } from './audit.js';
import { registerGovernanceCommands } from './governance.js';
import { registerReconcileCommand } from './reconcile.js';
import { registerStatusCommand } from './status.js';
import { registerAgentCommands } from './agents.js';
import { registerTargetCommands } from './targets.js';
import { registerTokenCommands } from './tokens.js';

/** Parses env after applying --config, so both routes to the config file validate the same way. */
export function loadEnv(options: { config?: string }): Env {
  if (options.config !== undefined) process.env['TETHER_CONFIG'] = options.config;
  return parseEnv();
}

/**
 * The server and its dependencies (express, pg, BullMQ, ...) are imported when a command needs them, so
 * the remote commands (status, agents, audit, ...), which only speak HTTP, start in a fraction of the time.
 */
async function run(options: { config?: string }, mode: 'start' | 'serve' | 'worker'): Promise<void> {
  const [{ buildContainer }, { createLogger }, { startServer, startWorkers }, { limitHeapGrowth }] = await Promise.all([
    import('../main/container.js'), import('../main/logger.js'), import('../main/processes.js'), import('../main/heap-tuning.js'),
  ]);
  const env = loadEnv(options);
  limitHeapGrowth(env.TETHER_HEAP_GROWTH_PERCENT);
  const logger = createLogger(env.LOG_LEVEL);
  const container = await buildContainer(env, logger);
  const running: Running[] = [];
  if (mode !== 'worker') running.push(await startServer(container));
  if (mode !== 'serve') running.push(startWorkers(container));
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down: draining HTTP and in-flight jobs');
    // Stop intake first (HTTP), then drain workers, then close pools: nothing acknowledged is cut off.
    void (async () => {
      for (const process of running) await process.stop();
      await container.close();
      logger.info('stopped');
      process.exit(0);
    })().catch((error: unknown) => {
      logger.error({ err: error }, 'error during shutdown');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

const program = new Command()
  .name('tether')
  .description('Directory sync bridge for AI-agent entitlements')
  .version('0.1.0')
  .showHelpAfterError();

const configOption = new Option('-c, --config <path>', 'tether.yaml to use (default: $TETHER_CONFIG or ./tether.yaml)');

program.command('start').description('HTTP server, workers and schedulers in one process').addOption(configOption).action((options: { config?: string }) => run(options, 'start'));
program.command('serve').description('the HTTP server only (SCIM, admin API, health, metrics)').addOption(configOption).action((options: { config?: string }) => run(options, 'serve'));
program.command('worker').description('the recompute and push workers and the outbox relay only').addOption(configOption).action((options: { config?: string }) => run(options, 'worker'));
program
  .command('migrate')
  .description('apply database migrations and exit')
  .addOption(configOption)
  .action(async (options: { config?: string }) => {
    const [{ openDatabase }, { migrate }] = await Promise.all([import('../main/container.js'), import('../store/migrate.js')]);
    const env = loadEnv(options);
    const db = await openDatabase(env);
    try {
      const { applied } = await migrate(db);
      console.log(applied.length === 0 ? 'schema is up to date' : `applied migrations: ${applied.join(', ')}`);
    } finally {
      await db.close();
    }
  });
registerTokenCommands(program, configOption);
registerStatusCommand(program);
registerAgentCommands(program);
registerReconcileCommand(program);
registerGovernanceCommands(program);
registerAuditCommands(program);
registerTargetCommands(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (isAppError(error)) {
    console.error(`tether: ${error.message}`);
    process.exit(error.code === 'invalid_config' ? 78 : 1);
  }
  console.error('tether: unexpected error', error);
  process.exit(1);
});
