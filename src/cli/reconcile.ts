import type { Command } from 'commander';
import { AppError } from '../domain/errors.js';
import { createProgress } from './progress.js';
import { callApi } from './remote.js';

interface RunSummary {
  id: number; mode: string; status: string; trigger: string; heldReason: string | null; error: string | null;
  startedAt: string; finishedAt: string | null;
  counts: { seen: number; changed: number; deleted: number; deactivated: number; population: number | null };
}

const runs = async (id: string, limit: number) => ((await callApi(`/sources/${id}/runs?limit=${limit}`)) as { items: RunSummary[] }).items;

/** The previous successful full run's duration: what the progress bar measures against (runs report no counts until they end). */
function expectedMs(recent: readonly RunSummary[]): number | null {
  const previous = recent.find((run) => run.mode === 'full' && run.status === 'succeeded' && run.finishedAt !== null);
  return previous === undefined || previous.finishedAt === null ? null : Math.max(1000, Date.parse(previous.finishedAt) - Date.parse(previous.startedAt));
}

function describe(run: RunSummary): string[] {
  const { seen, changed, deleted, deactivated } = run.counts;
  return [
    `run ${run.id} (${run.mode}): ${run.status}; seen ${seen}, changed ${changed}, deleted ${deleted}, deactivated ${deactivated}`,
    ...(run.heldReason === null ? [] : [`held: ${run.heldReason}`, 'confirm or discard it on the dashboard (Sources) or with the admin API']),
    ...(run.error === null ? [] : [`error: ${run.error}`]),
  ];
}

/** `tether reconcile <source> [--wait] [--json]`: queue a full reconciliation of an LDAP source on a running Tether. */
export function registerReconcileCommand(program: Command): void {
  program
    .command('reconcile <source>')
    .description('queue a full reconciliation of an LDAP source; --wait shows progress until it ends (TETHER_URL, TETHER_TOKEN)')
    .option('--wait', 'wait for the run to finish, with a progress bar on a terminal, and print its outcome')
    .option('--timeout <seconds>', 'how long --wait waits', '600')
    .option('--json', 'print JSON: {queued} or, with --wait, the finished run')
    .action(async (source: string, options: { wait?: boolean; timeout: string; json?: boolean }) => {
      const id = encodeURIComponent(source);
      const recent = await runs(id, 20);
      const before = recent[0]?.id ?? 0;
      await callApi(`/sources/${id}/reconcile`, { method: 'POST' });
      if (options.wait !== true) {
        console.log(options.json === true ? JSON.stringify({ source, queued: true }) : `reconciliation of ${source} queued`);
        return;
      }
      // Progress goes to stderr, so `--json` output on stdout stays machine-readable.
      const progress = createProgress(options.json === true ? { isTTY: false, write: () => undefined } : process.stderr.isTTY ? process.stderr : process.stdout);
      const expected = expectedMs(recent);
      const started = Date.now();
      const deadline = started + Number(options.timeout) * 1000;
      let phase = `reconciliation of ${source} queued`;
      progress.update({ phase, elapsedMs: 0, expectedMs: expected });
      let nextPoll = 0;
      while (Date.now() < deadline) {
        if (Date.now() >= nextPoll) {
          nextPoll = Date.now() + 1000;
          // Delta polls keep running meanwhile: follow the first full run started after the request.
          const latest = (await runs(id, 20)).filter((run) => run.id > before && run.mode === 'full').at(-1);
          if (latest !== undefined && latest.status !== 'running') {
            progress.done();
            if (options.json === true) console.log(JSON.stringify(latest, null, 2));
            else for (const line of describe(latest)) console.log(line);
            if (latest.status === 'failed') process.exitCode = 1;
            return;
          }
          phase = latest === undefined ? 'waiting for a worker' : `running (run ${latest.id})`;
        }
        // Redrawn between polls too, so the bar and elapsed time move smoothly on a terminal.
        progress.update({ phase, elapsedMs: Date.now() - started, expectedMs: expected });
        await new Promise((done) => setTimeout(done, 250));
      }
      progress.done();
      throw new AppError('unavailable', `no finished run of ${source} within ${options.timeout} s`);
    });
}
