import type { Command } from 'commander';
import { AppError } from '../domain/errors.js';
import { callApi } from './remote.js';

interface RunSummary {
  id: number; mode: string; status: string; trigger: string; heldReason: string | null; error: string | null;
  counts: { seen: number; changed: number; deleted: number; deactivated: number };
}

async function post(path: string): Promise<void> {
  const base = process.env['TETHER_URL'] ?? 'http://127.0.0.1:8080';
  const token = process.env['TETHER_TOKEN'];
  if (token === undefined || token === '') throw new AppError('invalid_config', 'set TETHER_TOKEN to an operator or admin API token');
  let response: Response;
  try {
    response = await fetch(new URL(`/api/v1${path}`, base), { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
  } catch {
    throw new AppError('unavailable', `cannot reach Tether at ${base} (TETHER_URL)`);
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { detail?: string } | null;
    throw new AppError('unavailable', `HTTP ${response.status}: ${body?.detail ?? 'request failed'}`);
  }
}

/** `tether reconcile <source> [--wait]`: queue a full reconciliation of an LDAP source on a running Tether. */
export function registerReconcileCommand(program: Command): void {
  program
    .command('reconcile <source>')
    .description('queue a full reconciliation of an LDAP source (TETHER_URL, TETHER_TOKEN)')
    .option('--wait', 'wait for the run to finish and print its outcome')
    .option('--timeout <seconds>', 'how long --wait waits', '600')
    .action(async (source: string, options: { wait?: boolean; timeout: string }) => {
      const id = encodeURIComponent(source);
      const before = ((await callApi(`/sources/${id}/runs?limit=1`)) as { items: RunSummary[] }).items[0]?.id ?? 0;
      await post(`/sources/${id}/reconcile`);
      console.log(`reconciliation of ${source} queued`);
      if (options.wait !== true) return;
      const deadline = Date.now() + Number(options.timeout) * 1000;
      while (Date.now() < deadline) {
        // Delta polls keep running meanwhile: wait for the first full run queued after the request.
        const recent = ((await callApi(`/sources/${id}/runs?limit=20`)) as { items: RunSummary[] }).items;
        const latest = recent.filter((run) => run.id > before && run.mode === 'full').at(-1);
        if (latest !== undefined && latest.status !== 'running') {
          const { seen, changed, deleted, deactivated } = latest.counts;
          console.log(`run ${latest.id} (${latest.mode}): ${latest.status}; seen ${seen}, changed ${changed}, deleted ${deleted}, deactivated ${deactivated}`);
          if (latest.heldReason !== null) console.log(`held: ${latest.heldReason}`);
          if (latest.error !== null) console.log(`error: ${latest.error}`);
          if (latest.status === 'failed') process.exitCode = 1;
          return;
        }
        await new Promise((done) => setTimeout(done, 1000));
      }
      throw new AppError('unavailable', `no finished run of ${source} within ${options.timeout} s`);
    });
}
