import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../domain/errors.js';

/** One admin API call with an optional JSON body (TETHER_URL, TETHER_TOKEN), answering the parsed JSON. */
async function request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
  const base = process.env['TETHER_URL'] ?? 'http://127.0.0.1:8080';
  const token = process.env['TETHER_TOKEN'];
  if (token === undefined || token === '') throw new AppError('invalid_config', 'set TETHER_TOKEN to an admin API token');
  let response: Response;
  try {
    response = await fetch(new URL(`/api/v1${path}`, base), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    throw new AppError('unavailable', `cannot reach Tether at ${base} (TETHER_URL)`);
  }
  const parsed = (await response.json().catch(() => null)) as { detail?: string } | null;
  if (!response.ok) throw new AppError('unavailable', `HTTP ${response.status}: ${parsed?.detail ?? 'request failed'}`);
  return parsed;
}

interface Link { kind: string; [key: string]: unknown }
interface ExplanationBody { toolId: string; agentId: string; at: string; granted: boolean; version: number | null; chain: Link[]; denial: { reason: string; detail: string } | null; notYetApplied: string[] }

function describeLink(link: Link): string {
  const value = (key: string) => {
    const item = link[key];
    return typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean' ? String(item) : '';
  };
  switch (link.kind) {
    case 'directory_change': return `directory change ${value('changeKind')} (${value('origin')}) received ${value('receivedAt')} [${value('changeEventId')}]`;
    case 'sponsor_group': return `sponsor ${value('sponsorId')} in group ${value('groupName')}${link['direct'] === true ? ` since ${value('since')}` : ' (through a nested group)'}`;
    case 'sponsor_attribute': return `sponsor ${value('sponsorId')} has ${value('attribute')} = ${value('value')}`;
    case 'grant_rule': return `grant rule ${value('ruleId')} version ${value('ruleVersion')}`;
    case 'delegation': return `delegation ${value('delegationId')} approved by ${value('approver')}, expires ${link['expiresAt'] === null ? 'never' : value('expiresAt')}`;
    case 'confirmation': return `growth confirmed by ${value('decidedBy')} at ${value('decidedAt')}`;
    case 'version': return `entitlement version ${value('version')} computed ${value('computedAt')}`;
    case 'target': return `applied at target ${value('targetId')} as version ${value('version')} at ${value('appliedAt')}`;
    default: return link.kind;
  }
}

export function registerGovernanceCommands(program: Command): void {
  program
    .command('explain <agent> <tool>')
    .description('why an agent holds a tool (or the first link that failed), now or --at a past instant (TETHER_URL, TETHER_TOKEN)')
    .option('--at <timestamp>', 'ISO 8601 instant to answer for, e.g. 2025-06-01T12:00:00Z')
    .option('--json', 'print JSON')
    .action(async (agent: string, tool: string, options: { at?: string; json?: boolean }) => {
      const query = new URLSearchParams({ tool, ...(options.at === undefined ? {} : { at: options.at }) });
      const explanation = (await request('GET', `/agents/${encodeURIComponent(agent)}/explain?${query.toString()}`)) as ExplanationBody;
      if (options.json === true) {
        console.log(JSON.stringify(explanation, null, 2));
        return;
      }
      console.log(`${explanation.toolId} for agent ${explanation.agentId} at ${explanation.at}: ${explanation.granted ? 'GRANTED' : 'DENIED'}${explanation.version === null ? '' : ` (version ${explanation.version})`}`);
      for (const link of explanation.chain) console.log(`  → ${describeLink(link)}`);
      if (explanation.denial !== null) console.log(`  ✗ ${explanation.denial.reason}: ${explanation.denial.detail}`);
      if (explanation.notYetApplied.length > 0) console.log(`  … not yet applied at: ${explanation.notYetApplied.join(', ')}`);
    });
  program
    .command('what-if')
    .description('what would change if a sponsor left, moved between groups, or a grant rule were edited; changes nothing')
    .option('--leaves <person>', 'the sponsor (person id) leaves')
    .option('--moves <person>', 'the sponsor (person id) moves: use with --from and --to')
    .option('--from <groups>', 'comma-separated groups the sponsor leaves', '')
    .option('--to <groups>', 'comma-separated groups the sponsor joins', '')
    .option('--rule <file>', 'a JSON grant rule {id, when: [{group} | {attribute, in}], tools} replacing (or adding) the rule with that id')
    .option('--json', 'print JSON')
    .action(async (options: { leaves?: string; moves?: string; from: string; to: string; rule?: string; json?: boolean }) => {
      const list = (value: string) => value.split(',').map((item) => item.trim()).filter((item) => item !== '');
      const chosen = [options.leaves, options.moves, options.rule].filter((option) => option !== undefined);
      if (chosen.length !== 1) throw new AppError('invalid_input', 'give exactly one of --leaves, --moves, --rule');
      const body = options.leaves !== undefined ? { kind: 'sponsor_leaves', personId: options.leaves }
        : options.moves !== undefined ? { kind: 'sponsor_moves', personId: options.moves, from: list(options.from), to: list(options.to) }
          : { kind: 'rule_edited', rule: JSON.parse(readFileSync(options.rule ?? '', 'utf8')) as unknown };
      const report = (await request('POST', '/what-if', body)) as { agents: { agentId: string; lose: string[]; gain: string[]; pending: string[]; reassignment: { kind: string; sponsorId?: string; proposal?: { sponsorId: string | null; outcome: string } } | null }[] };
      if (options.json === true) {
        console.log(JSON.stringify(report, null, 2));
        return;
      }
      if (report.agents.length === 0) console.log('no agent would change');
      for (const agent of report.agents) {
        const parts = [`lose [${agent.lose.join(', ')}]`, `gain [${agent.gain.join(', ')}]`, `pending [${agent.pending.join(', ')}]`];
        const move = agent.reassignment === null ? ''
          : agent.reassignment.kind === 'backup' ? `; backup ${agent.reassignment.sponsorId ?? ''} takes over`
            : `; pending reassignment, proposed successor ${agent.reassignment.proposal?.sponsorId ?? 'none'} (${agent.reassignment.proposal?.outcome ?? ''})`;
        console.log(`agent ${agent.agentId}: ${parts.join(', ')}${move}`);
      }
    });
}
