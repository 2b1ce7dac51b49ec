import type { Command } from 'commander';
import { AppError } from '../domain/errors.js';
import { callApi } from './remote.js';
import { table } from './status.js';

interface ListItem { id: string; name: string; environment: string; state: string; sponsorId: string; version: number; effectiveTools: string[] }
interface Entitlement { toolId: string; risk: string; provenance: { ruleId: string; ruleVersion: number; via: { kind: string; groupName?: string; attribute?: string; value?: string } } }
interface AgentBody {
  id: string; name: string; purpose: string; environment: string; state: string; version: number; owner: string | null; expiresAt: string | null;
  sponsor: { id: string; userName: string; sourceId: string; active: boolean; deleted: boolean }; backupSponsorIds: string[];
  effective: Entitlement[]; denied: { toolId: string; reason: string }[]; targets: { targetId: string; appliedVersion: number; appliedAt: string }[];
}

const STATES = ['active', 'pending_reassignment', 'suspended', 'retired'];
const ENVIRONMENTS = ['sandbox', 'pilot', 'production'];

function via(entitlement: Entitlement): string {
  const from = entitlement.provenance.via;
  return from.kind === 'group' ? `group ${from.groupName ?? ''}` : `${from.attribute ?? ''} = ${from.value ?? ''}`;
}

/** `tether agents list|show` against a running Tether (TETHER_URL, TETHER_TOKEN); both take --json. */
export function registerAgentCommands(program: Command): void {
  const agents = program.command('agents').description('inspect agents');
  agents
    .command('list')
    .description('list agents, filtered like the dashboard and GET /api/v1/agents')
    .option('--state <state>', STATES.join(' | '))
    .option('--environment <environment>', ENVIRONMENTS.join(' | '))
    .option('--sponsor <personId>', 'agents of this sponsor')
    .option('--tool <toolId>', 'agents that hold this tool')
    .option('--limit <n>', 'at most this many (1-500)', '100')
    .option('--json', 'print JSON (the API page: {items, next})')
    .action(async (options: { state?: string; environment?: string; sponsor?: string; tool?: string; limit: string; json?: boolean }) => {
      if (options.state !== undefined && !STATES.includes(options.state)) throw new AppError('invalid_input', `--state must be one of ${STATES.join(', ')}`);
      if (options.environment !== undefined && !ENVIRONMENTS.includes(options.environment)) throw new AppError('invalid_input', `--environment must be one of ${ENVIRONMENTS.join(', ')}`);
      const query = new URLSearchParams(Object.entries({ state: options.state, environment: options.environment, sponsorId: options.sponsor, tool: options.tool, limit: options.limit })
        .filter((entry): entry is [string, string] => entry[1] !== undefined));
      const page = (await callApi(`/agents?${query.toString()}`)) as { items: ListItem[]; next: string | null };
      if (options.json === true) {
        console.log(JSON.stringify(page, null, 2));
        return;
      }
      if (page.items.length === 0) {
        console.log('no agents');
        return;
      }
      console.log(table([
        ['ID', 'NAME', 'STATE', 'ENVIRONMENT', 'VERSION', 'TOOLS'],
        ...page.items.map((item) => [item.id, item.name, item.state, item.environment, String(item.version), item.effectiveTools.join(',') || '-']),
      ]));
      if (page.next !== null) console.log(`(more: raise --limit, or page with GET /api/v1/agents?after=${page.next})`);
    });
  agents
    .command('show <id>')
    .description('an agent with its effective entitlements and their provenance')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const agent = (await callApi(`/agents/${encodeURIComponent(id)}`)) as AgentBody;
      if (options.json === true) {
        console.log(JSON.stringify(agent, null, 2));
        return;
      }
      const sponsor = agent.sponsor;
      console.log(`${agent.name} (${agent.id})`);
      console.log(`  state ${agent.state}, ${agent.environment}, entitlement version ${agent.version}`);
      console.log(`  purpose: ${agent.purpose}`);
      console.log(`  sponsor: ${sponsor.userName} (${sponsor.sourceId}, ${sponsor.deleted ? 'deleted' : sponsor.active ? 'active' : 'inactive'})${agent.backupSponsorIds.length === 0 ? '' : `; backups: ${agent.backupSponsorIds.join(', ')}`}`);
      console.log('');
      console.log(agent.effective.length === 0 ? 'effective rights: none' : table([
        ['TOOL', 'RISK', 'GRANTED VIA', 'RULE'],
        ...agent.effective.map((entitlement) => [entitlement.toolId, entitlement.risk, via(entitlement), `${entitlement.provenance.ruleId} v${entitlement.provenance.ruleVersion}`]),
      ]));
      if (agent.denied.length > 0) {
        console.log('');
        console.log(table([['REQUESTED, NOT HELD', 'REASON'], ...agent.denied.map((denial) => [denial.toolId, denial.reason])]));
      }
      console.log('');
      console.log(agent.targets.length === 0 ? 'not applied at any target yet' : table([
        ['TARGET', 'APPLIED VERSION', 'APPLIED AT'],
        ...agent.targets.map((target) => [target.targetId, `${target.appliedVersion}${target.appliedVersion < agent.version ? ' (behind)' : ''}`, target.appliedAt]),
      ]));
      console.log(`\nwhy a tool: tether explain ${agent.id} <tool>`);
    });
}
