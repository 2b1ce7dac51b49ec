import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../domain/errors.js';
import { callApi } from './remote.js';

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

interface GrantBody { id: string; toolId: string; risk: string; sponsorId: string; status: string; createdAt: string; decidedBy: string | null; decidedAt: string | null }

function describeGrant(grant: GrantBody): string {
  const decided = grant.decidedBy === null ? '' : ` by ${grant.decidedBy} at ${grant.decidedAt ?? ''}`;
  return `${grant.id}  ${grant.toolId} (${grant.risk})  ${grant.status}${decided}  proposed ${grant.createdAt} under sponsor ${grant.sponsorId}`;
}

function registerGrantCommands(program: Command): void {
  const grants = program.command('grants').description('growth waiting for confirmation (pending grants) of an agent (TETHER_URL, TETHER_TOKEN; role operator)');
  grants
    .command('list <agent>')
    .description("an agent's pending grants (default: pending and confirmed-not-yet-applied)")
    .option('--status <status>', 'pending | confirmed | rejected | applied | withdrawn')
    .option('--json', 'print JSON')
    .action(async (agent: string, options: { status?: string; json?: boolean }) => {
      const query = options.status === undefined ? '' : `?${new URLSearchParams({ status: options.status }).toString()}`;
      const body = (await callApi(`/agents/${encodeURIComponent(agent)}/pending-grants${query}`)) as { items: GrantBody[] };
      if (options.json === true) {
        console.log(JSON.stringify(body, null, 2));
        return;
      }
      if (body.items.length === 0) console.log('no grants');
      for (const grant of body.items) console.log(describeGrant(grant));
    });
  for (const action of ['confirm', 'reject'] as const) {
    grants
      .command(`${action} <agent> <grant>`)
      .description(action === 'confirm' ? 'confirm a pending grant: the tool takes effect with the next entitlement version' : 'reject a pending grant: the tool stays out while the sponsor covers it')
      .option('--json', 'print JSON')
      .action(async (agent: string, grant: string, options: { json?: boolean }) => {
        const decided = (await callApi(`/agents/${encodeURIComponent(agent)}/pending-grants/${encodeURIComponent(grant)}/${action}`, { method: 'POST' })) as GrantBody;
        console.log(options.json === true ? JSON.stringify(decided, null, 2) : describeGrant(decided));
      });
  }
}

export function registerGovernanceCommands(program: Command): void {
  registerGrantCommands(program);
  program
    .command('explain <agent> <tool>')
    .description('why an agent holds a tool (or the first link that failed), now or --at a past instant (TETHER_URL, TETHER_TOKEN)')
    .option('--at <timestamp>', 'ISO 8601 instant to answer for, e.g. 2025-06-01T12:00:00Z')
    .option('--json', 'print JSON')
    .action(async (agent: string, tool: string, options: { at?: string; json?: boolean }) => {
      const query = new URLSearchParams({ tool, ...(options.at === undefined ? {} : { at: options.at }) });
      const explanation = (await callApi(`/agents/${encodeURIComponent(agent)}/explain?${query.toString()}`)) as ExplanationBody;
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
      const report = (await callApi('/what-if', { method: 'POST', body })) as { agents: { agentId: string; lose: string[]; gain: string[]; pending: string[]; reassignment: { kind: string; sponsorId?: string; proposal?: { sponsorId: string | null; outcome: string } } | null }[] };
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
