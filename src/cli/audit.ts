/** `tether audit verify|export|search`: the audit log of a running Tether (TETHER_URL, TETHER_TOKEN). */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { Command } from 'commander';
import { AppError } from '../domain/errors.js';
import { apiResponse, callApi } from './remote.js';

interface AuditLine { seq: number; at: string; actor: string; action: string; subjectType: string; subjectId: string | null; detail: Record<string, unknown> }
interface Verification { ok: boolean; entries: number; unsealed: number; firstBroken: { seq: number; chainSeq: number | null; at: string | null; action: string | null } | null }

/** Exit code of `audit verify` when the chain is broken (1 stays for "could not check"). */
export const TAMPERED_EXIT_CODE = 2;

interface FilterOptions { since?: string; until?: string; actor?: string; action?: string; subjectType?: string; subjectId?: string }

function filterQuery(options: FilterOptions): URLSearchParams {
  const query = new URLSearchParams();
  const set = (name: string, value: string | undefined) => {
    if (value !== undefined) query.set(name, value);
  };
  set('from', options.since === undefined ? undefined : instant(options.since, '--since'));
  set('to', options.until === undefined ? undefined : instant(options.until, '--until'));
  set('actor', options.actor);
  set('action', options.action);
  set('subjectType', options.subjectType);
  set('subjectId', options.subjectId);
  return query;
}

/** An ISO 8601 instant, or a span back from now: 30m, 12h, 7d. */
function instant(value: string, option: string): string {
  const span = /^(\d+)([mhd])$/.exec(value);
  if (span !== null) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000 }[span[2] as 'm' | 'h' | 'd'];
    return new Date(Date.now() - Number(span[1]) * unit).toISOString();
  }
  const parsed = new Date(value);
  if (Number.isNaN(parsed.getTime())) throw new AppError('invalid_input', `${option}: give an ISO 8601 instant (2025-06-01T00:00:00Z) or a span such as 7d, 12h, 30m`);
  return parsed.toISOString();
}

function describe(entry: AuditLine): string {
  const subject = entry.subjectId === null ? entry.subjectType : `${entry.subjectType}:${entry.subjectId}`;
  return `${entry.at}  ${entry.action}  ${subject}  by ${entry.actor}  ${JSON.stringify(entry.detail)}`;
}

/** Streams GET /audit/export line by line, so an export of any size runs in constant memory. */
async function exportLines(query: URLSearchParams, onLine: (line: string) => void): Promise<number> {
  const response = await apiResponse(`/audit/export?${query.toString()}`, { timeoutMs: 3_600_000 });
  if (response.body === null) throw new AppError('unavailable', 'the export answered no body');
  let count = 0;
  for await (const line of createInterface({ input: Readable.fromWeb(response.body), crlfDelay: Infinity })) {
    if (line === '') continue;
    onLine(line);
    count += 1;
  }
  return count;
}

function filterOptions(command: Command): Command {
  return command
    .option('--since <when>', 'entries at or after: ISO 8601 instant, or a span back from now (7d, 12h, 30m)')
    .option('--until <when>', 'entries before: ISO 8601 instant or span')
    .option('--actor <actor>', 'e.g. admin_token:<id>, system:expiry')
    .option('--action <action>', 'an action, or a prefix ending in * (grant.*)')
    .option('--subject-type <type>', 'agent, person, group, source, target, ...')
    .option('--subject-id <id>', 'the subject id');
}

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the hash-chained audit log of a running Tether (TETHER_URL, TETHER_TOKEN)');
  audit
    .command('verify')
    .description(`walk the hash chain; exits ${TAMPERED_EXIT_CODE} and names the first broken entry when the log was tampered with`)
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const report = (await callApi('/audit/verify')) as Verification;
      if (options.json === true) console.log(JSON.stringify(report, null, 2));
      else if (report.ok) console.log(`audit chain intact: ${report.entries} entries verified, ${report.unsealed} not sealed yet`);
      else {
        const broken = report.firstBroken;
        console.error(`audit chain BROKEN at entry seq ${broken?.seq ?? '?'}${broken?.chainSeq === null || broken === null ? '' : ` (chain position ${broken.chainSeq})`}`
          + `${broken?.action === null || broken === null ? ' (entry missing)' : `: ${broken.action} at ${broken.at ?? '?'}`}; ${report.entries} entries checked`);
      }
      if (!report.ok) process.exitCode = TAMPERED_EXIT_CODE;
    });
  filterOptions(audit.command('export'))
    .description('export entries, oldest first: JSON lines with --json (one entry per line, as the API streams them), else one readable line each')
    .option('--json', 'print JSON lines')
    .action(async (options: FilterOptions & { json?: boolean }) => {
      await exportLines(filterQuery(options), (line) => {
        console.log(options.json === true ? line : describe(JSON.parse(line) as AuditLine));
      });
    });
  filterOptions(audit.command('search'))
    .description('the newest matching entries (--limit, default 50)')
    .option('--limit <n>', 'how many', '50')
    .option('--json', 'print JSON')
    .action(async (options: FilterOptions & { limit: string; json?: boolean }) => {
      const query = filterQuery(options);
      query.set('limit', options.limit);
      const page = (await callApi(`/audit?${query.toString()}`)) as { items: AuditLine[]; next: string | null };
      if (options.json === true) {
        console.log(JSON.stringify(page, null, 2));
        return;
      }
      for (const entry of page.items) console.log(describe(entry));
      if (page.next !== null) console.log('… more entries match: raise --limit, narrow the filter, or use tether audit export');
    });
}
