import type { Command } from 'commander';
import { AppError } from '../domain/errors.js';

/** The CLI's view of a running Tether: TETHER_URL (default http://127.0.0.1:8080) + TETHER_TOKEN. */
export async function callApi(path: string): Promise<unknown> {
  const base = process.env['TETHER_URL'] ?? 'http://127.0.0.1:8080';
  const token = process.env['TETHER_TOKEN'];
  if (token === undefined || token === '') throw new AppError('invalid_config', 'set TETHER_TOKEN to an admin API token');
  let response: Response;
  try {
    response = await fetch(new URL(`/api/v1${path}`, base), { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
  } catch {
    throw new AppError('unavailable', `cannot reach Tether at ${base} (TETHER_URL)`);
  }
  const body = (await response.json().catch(() => null)) as { detail?: string } | null;
  if (!response.ok) throw new AppError('unavailable', `HTTP ${response.status}: ${body?.detail ?? 'request failed'}`);
  return body;
}

export function registerRemoteCommands(program: Command): void {
  program
    .command('status')
    .description('sync status of a running Tether')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const status = (await callApi('/status')) as {
        sources: { id: string; people: number; groups: number }[];
        agents: { total: number };
        outbox: { pending: number };
        queues: { name: string; waiting: number; active: number; delayed: number; failed: number }[];
      };
      if (options.json === true) {
        console.log(JSON.stringify(status, null, 2));
        return;
      }
      for (const source of status.sources) console.log(`source ${source.id}: ${source.people} people, ${source.groups} groups`);
      console.log(`agents: ${status.agents.total}; outbox pending: ${status.outbox.pending}`);
      for (const queue of status.queues) console.log(`queue ${queue.name}: waiting ${queue.waiting}, active ${queue.active}, delayed ${queue.delayed}, failed ${queue.failed}`);
    });
  const agents = program.command('agents').description('inspect agents');
  agents
    .command('show <id>')
    .description('an agent with its effective entitlements and their provenance')
    .action(async (id: string) => {
      console.log(JSON.stringify(await callApi(`/agents/${encodeURIComponent(id)}`), null, 2));
    });
  agents
    .command('list')
    .description('list agents')
    .action(async () => {
      console.log(JSON.stringify(await callApi('/agents'), null, 2));
    });
}
