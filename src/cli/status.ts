import type { Command } from 'commander';
import { callApi } from './remote.js';

interface Run { id: number; mode: string; status: string; startedAt: string }
interface SourceItem {
  id: string; kind: string; displayName: string;
  sync: { running: boolean; lastSuccessAt: string | null; lagSeconds: number | null; lastError: string | null; lastErrorAt: string | null; lastRun: Run | null; held: Run | null } | null;
}
interface Status {
  sources: { id: string; kind: string; people: number; groups: number; lastChangeAt: string | null }[];
  agents: { total: number; byState: Record<string, number> };
  outbox: { pending: number; oldestPendingAgeSeconds: number | null };
  queues: { name: string; waiting: number; active: number; delayed: number; failed: number }[];
}
interface Target { id: string; kind: string; agents: number; verified: number; behind: number; deadLetters: number; lastAppliedAt: string | null }

/** The same health words the dashboard uses (src/http/ui/pages/overview.ts), so both read alike. */
function health(source: SourceItem | undefined): string {
  const sync = source?.sync ?? null;
  if (sync === null) return 'push (SCIM)';
  if (sync.held !== null) return `held run ${sync.held.id}: needs a decision`;
  if (sync.lastError !== null && (sync.lastSuccessAt === null || (sync.lastErrorAt !== null && sync.lastErrorAt > sync.lastSuccessAt))) return `failing: ${sync.lastError}`;
  if (sync.running) return 'running';
  return sync.lastSuccessAt === null ? 'never synced' : 'healthy';
}

/** Columns padded to their widest cell: readable in a terminal, still one record per line for grep. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows.reduce<number[]>((max, row) => row.map((cell, index) => Math.max(max[index] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0))).join('  ').trimEnd()).join('\n');
}

/** `tether status [--json]`: sources, agents, outbox, queues and targets of a running Tether (TETHER_URL, TETHER_TOKEN). */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('sync status of a running Tether: sources, queues, targets (TETHER_URL, TETHER_TOKEN)')
    .option('--json', 'print JSON: {status, sources, targets} as the admin API returns them')
    .action(async (options: { json?: boolean }) => {
      const [status, sources, targets] = await Promise.all([
        callApi('/status') as Promise<Status>,
        (callApi('/sources') as Promise<{ items: SourceItem[] }>).then((body) => body.items),
        (callApi('/targets') as Promise<{ items: Target[] }>).then((body) => body.items),
      ]);
      if (options.json === true) {
        console.log(JSON.stringify({ status, sources, targets }, null, 2));
        return;
      }
      const byId = new Map(sources.map((source) => [source.id, source]));
      console.log(table([
        ['SOURCE', 'KIND', 'PEOPLE', 'GROUPS', 'LAG', 'LAST RUN', 'HEALTH'],
        ...status.sources.map((source) => {
          const sync = byId.get(source.id)?.sync ?? null;
          const run = sync?.lastRun ?? null;
          return [source.id, source.kind, String(source.people), String(source.groups), sync?.lagSeconds === null || sync === null ? '-' : `${sync.lagSeconds}s`,
            run === null ? '-' : `${run.mode} ${run.status} ${run.startedAt}`, health(byId.get(source.id))];
        }),
      ]));
      console.log('');
      const states = Object.entries(status.agents.byState).map(([state, count]) => `${state} ${count}`).join(', ');
      console.log(`agents: ${status.agents.total}${states === '' ? '' : ` (${states})`}; outbox pending: ${status.outbox.pending}${status.outbox.oldestPendingAgeSeconds === null ? '' : `, oldest ${Math.round(status.outbox.oldestPendingAgeSeconds)}s`}`);
      console.log('');
      console.log(status.queues.length === 0 ? 'queues: unavailable (Redis unreachable?)' : table([
        ['QUEUE', 'WAITING', 'ACTIVE', 'DELAYED', 'FAILED'],
        ...status.queues.map((queue) => [queue.name, String(queue.waiting), String(queue.active), String(queue.delayed), String(queue.failed)]),
      ]));
      console.log('');
      console.log(targets.length === 0 ? 'targets: none configured' : table([
        ['TARGET', 'KIND', 'AGENTS', 'VERIFIED', 'BEHIND', 'DEAD LETTERS', 'LAST DELIVERY'],
        ...targets.map((target) => [target.id, target.kind, String(target.agents), String(target.verified), String(target.behind), String(target.deadLetters), target.lastAppliedAt ?? 'never']),
      ]));
      if (targets.some((target) => target.deadLetters > 0)) console.log('\ndead letters: `tether dead-letters <target>`, then `tether retry <target> <job> | --all`');
    });
}
