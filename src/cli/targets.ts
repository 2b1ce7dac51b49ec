import type { Command } from 'commander';
import { AppError } from '../domain/errors.js';
import { callApi } from './remote.js';

interface DeadLetter { jobId: string; agentId: string; version: number; attempts: number; lastError: string; failedAt: string | null }

/**
 * `tether targets`, `tether dead-letters <target>`, `tether retry <target> [jobId | --all]` and
 * `tether drift <target> [--agent <id>]` against a running Tether (TETHER_URL, TETHER_TOKEN).
 */
export function registerTargetCommands(program: Command): void {
  program
    .command('targets')
    .description('targets with delivery status, dead letters, revocation timing and last drift check')
    .action(async () => {
      console.log(JSON.stringify(await callApi('/targets'), null, 2));
    });
  program
    .command('dead-letters <target>')
    .description('pushes to a target that failed for good, with their last error')
    .action(async (target: string) => {
      const page = (await callApi(`/targets/${encodeURIComponent(target)}/dead-letters?limit=500`)) as { items: DeadLetter[]; total: number };
      for (const item of page.items) console.log(`${item.jobId}\tagent ${item.agentId} v${item.version}\t${item.attempts} attempts\t${item.lastError}`);
      console.log(`${page.total} dead letter(s)`);
    });
  program
    .command('retry <target> [jobId]')
    .description('queue a dead-lettered push again (or all of them with --all)')
    .option('--all', 'retry every dead letter of the target')
    .action(async (target: string, jobId: string | undefined, options: { all?: boolean }) => {
      const base = `/targets/${encodeURIComponent(target)}/dead-letters`;
      if (options.all === true) {
        const result = (await callApi(`${base}/retry-all`, { method: 'POST' })) as { retried: number };
        console.log(`${result.retried} dead letter(s) queued again`);
        return;
      }
      if (jobId === undefined) throw new AppError('invalid_input', 'give a job id (see `tether dead-letters <target>`) or --all');
      await callApi(`${base}/${encodeURIComponent(jobId)}/retry`, { method: 'POST' });
      console.log(`${jobId} queued again`);
    });
  program
    .command('drift <target>')
    .description('read a target back and repair drift: one agent now (--agent), or the whole target queued')
    .option('--agent <id>', 'check and repair this agent now and print the report')
    .action(async (target: string, options: { agent?: string }) => {
      const report = await callApi(`/targets/${encodeURIComponent(target)}/drift`, { method: 'POST', body: options.agent === undefined ? {} : { agentId: options.agent }, timeoutMs: 120_000 });
      console.log(report === null ? `drift check of ${target} queued` : JSON.stringify(report, null, 2));
    });
}
