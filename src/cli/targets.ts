import type { Command } from 'commander';
import { AppError } from '../domain/errors.js';
import { callApi } from './remote.js';

async function post(path: string, body?: unknown): Promise<unknown> {
  const base = process.env['TETHER_URL'] ?? 'http://127.0.0.1:8080';
  const token = process.env['TETHER_TOKEN'];
  if (token === undefined || token === '') throw new AppError('invalid_config', 'set TETHER_TOKEN to an operator or admin API token');
  let response: Response;
  try {
    response = await fetch(new URL(`/api/v1${path}`, base), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(120_000),
    });
  } catch {
    throw new AppError('unavailable', `cannot reach Tether at ${base} (TETHER_URL)`);
  }
  const parsed = (await response.json().catch(() => null)) as { detail?: string } | null;
  if (!response.ok) throw new AppError('unavailable', `HTTP ${response.status}: ${parsed?.detail ?? 'request failed'}`);
  return parsed;
}

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
        const result = (await post(`${base}/retry-all`)) as { retried: number };
        console.log(`${result.retried} dead letter(s) queued again`);
        return;
      }
      if (jobId === undefined) throw new AppError('invalid_input', 'give a job id (see `tether dead-letters <target>`) or --all');
      await post(`${base}/${encodeURIComponent(jobId)}/retry`);
      console.log(`${jobId} queued again`);
    });
  program
    .command('drift <target>')
    .description('read a target back and repair drift: one agent now (--agent), or the whole target queued')
    .option('--agent <id>', 'check and repair this agent now and print the report')
    .action(async (target: string, options: { agent?: string }) => {
      const report = await post(`/targets/${encodeURIComponent(target)}/drift`, options.agent === undefined ? {} : { agentId: options.agent });
      console.log(report === null ? `drift check of ${target} queued` : JSON.stringify(report, null, 2));
    });
}
