import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullQueues, eachSponsor, startBullWorkers, type BullQueues, type BullWorkers } from '../../jobs/bullmq.js';
import { registerAgent } from '../../src/app/agents/register-agent.js';
import { changeGroup, createGroup } from '../../src/app/directory/groups.js';
import { createPerson, deletePerson, updatePerson } from '../../src/app/directory/people.js';
import { decideGrant, listGrants } from '../../src/app/governance/grants.js';
import { sweepExpiries } from '../../src/app/governance/expiry.js';
import { DEFAULT_GOVERNANCE_POLICY } from '../../src/app/governance/policy.js';
import { deliverVersion } from '../../src/app/pipeline/deliver.js';
import { relayOutboxOnce } from '../../src/app/pipeline/outbox-relay.js';
import { recomputeBatcher } from '../../src/app/pipeline/recompute-batcher.js';
import type { Policy } from '../../src/app/ports.js';
import { parseConfig } from '../../src/config/file.js';
import { syncPolicy } from '../../src/main/bootstrap.js';
import type { Store } from '../../src/store/index.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { POLICY_YAML, RecordingTarget, scimContext, silentLogger, storeWithPolicy } from '../support/pipeline.js';
import { waitFor } from '../support/ports.js';
import { startPrivateRedis, uniquePrefix, type PrivateRedis } from '../support/redis.js';

/**
 * Model-based test of delegation governance: random sequences of directory events, registrations (some
 * expiring), grant rule edits (synced like a changed tether.yaml), decisions on pending grants (confirm or
 * reject) and expiries (a jump of the test clock, then the expiry sweep) run through the
 * real pipeline (PostgreSQL, Redis, BullMQ workers, a recording target) and, at every quiescent point, the target's state is compared with a small reference model. The invariant
 * that matters most is checked on its own: no agent holds, at the target, a tool its sponsor does not cover.
 * TETHER_MODEL_RUNS / TETHER_MODEL_STEPS scale it up for a soak run.
 */
const RUNS = Number(process.env['TETHER_MODEL_RUNS'] ?? 35);
const STEPS = Number(process.env['TETHER_MODEL_STEPS'] ?? 30);
const PEOPLE = 4;
const GROUPS = ['Sales', 'Ops'] as const;
const TOOLS = { 'crm.contacts.read': 'read', 'crm.contacts.write': 'write', 'ops.dispatch': 'orchestrate' } as const;
type ToolId = keyof typeof TOOLS;
type Group = (typeof GROUPS)[number];
const TOOL_IDS = Object.keys(TOOLS) as ToolId[];
const GROWING = TOOL_IDS.filter((tool) => TOOLS[tool] !== 'read');

/** A grant rule of the model: one group condition and explicit tools; null when the rule is absent from tether.yaml. */
type ModelRule = { readonly g: Group; readonly t: readonly ToolId[] } | null;
const RULE_IDS = ['sales', 'ops'] as const;
type Rules = Readonly<Record<(typeof RULE_IDS)[number], ModelRule>>;
/** What test/support/pipeline.ts POLICY_YAML starts with (`crm.*` and `ops.*` expanded). */
const INITIAL_RULES: Rules = { sales: { g: 'Sales', t: ['crm.contacts.read', 'crm.contacts.write'] }, ops: { g: 'Ops', t: ['ops.dispatch'] } };

/** POLICY_YAML with its grantRules replaced by `rules`: the tether.yaml an operator edits. */
function policyYaml(rules: Rules): string {
  const lines = RULE_IDS.flatMap((id) => {
    const rule = rules[id];
    return rule === null ? [] : [`  - { id: ${id}, when: [{ group: ${rule.g} }], tools: [${rule.t.map((tool) => JSON.stringify(tool)).join(', ')}] }`];
  });
  const yaml = POLICY_YAML.replace(/grantRules:\n(?: {2}- .*\n)+/, `grantRules:${lines.length === 0 ? ' []' : ''}\n${lines.map((line) => `${line}\n`).join('')}`);
  if (yaml === POLICY_YAML && lines.length > 0) throw new Error('POLICY_YAML changed shape: grantRules not found');
  return yaml;
}

type Command =
  | { readonly k: 'join' | 'leave'; readonly p: number; readonly g: (typeof GROUPS)[number] }
  | { readonly k: 'deactivate' | 'reactivate' | 'delete'; readonly p: number }
  | { readonly k: 'register'; readonly p: number; readonly b: number | null; readonly e: Expiring | null }
  /** Decides every pending grant of one agent: the tools in `r` are rejected, the others confirmed. */
  | { readonly k: 'decide'; readonly a: number; readonly r: readonly ToolId[] }
  /**
   * One grant rule of tether.yaml is edited and synced: it gains or loses tool `t` (`tool`), switches to group `g`
   * (`group`), or goes away (`remove`; a rule that is absent comes back as it started, or as `g` with `t`).
   */
  | { readonly k: 'rule'; readonly id: (typeof RULE_IDS)[number]; readonly op: 'tool' | 'group' | 'remove'; readonly t: ToolId; readonly g: Group }
  /** Time jumps past every expiry set so far (registrations expire an hour after they happen) and the expiry sweep runs. */
  | { readonly k: 'expire' };

type Expiring = 'agent' | 'delegation';
const EXPIRES_IN_MS = 3_600_000;
const personArb = fc.integer({ min: 0, max: PEOPLE - 1 });
const PERSON_INDEXES = Array.from({ length: PEOPLE }, (_, index) => index);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constantFrom('join' as const, 'leave' as const), p: personArb, g: fc.constantFrom(...GROUPS) }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constantFrom('deactivate' as const, 'reactivate' as const), p: personArb }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('delete' as const), p: personArb }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('register' as const), p: personArb, b: fc.option(personArb, { nil: null }), e: fc.constantFrom<Expiring | null>(null, null, 'agent', 'delegation') }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('decide' as const), a: fc.nat(5), r: fc.subarray(GROWING) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('rule' as const), id: fc.constantFrom(...RULE_IDS), op: fc.constantFrom('tool' as const, 'group' as const, 'remove' as const),
      t: fc.constantFrom(...TOOL_IDS), g: fc.constantFrom(...GROUPS),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ k: 'expire' as const }) },
);

interface ModelPerson { active: boolean; deleted: boolean; groups: Set<string> }
interface ModelAgent {
  id: string; sponsor: number; backups: number[]; state: 'active' | 'pending_reassignment'; held: Set<ToolId>; pending: Set<ToolId>;
  /** Growth rejected under the current sponsor: stays out while it stays covered (then the grant is withdrawn). */
  rejected: Set<ToolId>;
  /** When the agent or its delegation expires (virtual time), and whether that has passed. */
  expiresAt: number | null; expired: boolean;
}

/** The reference: what the rules say, one event at a time, with nothing but sets. */
class Model {
  readonly people: ModelPerson[] = Array.from({ length: PEOPLE }, () => ({ active: true, deleted: false, groups: new Set<string>() }));
  readonly agents: ModelAgent[] = [];
  rules: Rules = INITIAL_RULES;

  covered(index: number): Set<ToolId> {
    const person = this.people[index];
    if (person === undefined || !person.active || person.deleted) return new Set();
    return new Set(Object.values(this.rules).flatMap((rule) => (rule !== null && person.groups.has(rule.g) ? rule.t : [])));
  }

  usable(index: number): boolean {
    const person = this.people[index];
    return person !== undefined && person.active && !person.deleted;
  }

  /** The sponsor's recompute: revoke at once, succession, asymmetric growth (previous = what is held). */
  /** `confirmed` holds the tools just confirmed for the agent `confirmedFor` only: grants are per agent. */
  recompute(sponsor: number, confirmed: ReadonlySet<ToolId> = new Set(), confirmedFor: string | null = null): void {
    for (const agent of this.agents.filter((candidate) => candidate.sponsor === sponsor)) {
      if (!this.usable(sponsor)) {
        agent.held.clear();
        agent.pending.clear();
        agent.rejected.clear();
        const successor = agent.backups.find((backup) => backup !== sponsor && this.usable(backup));
        if (successor !== undefined) {
          agent.backups = agent.backups.filter((backup) => backup !== successor && backup !== sponsor);
          agent.sponsor = successor;
          agent.state = 'active';
          this.grow(agent, new Set());
        } else {
          agent.state = 'pending_reassignment';
        }
        continue;
      }
      if (agent.state === 'pending_reassignment') agent.state = 'active';
      this.grow(agent, agent.id === confirmedFor ? confirmed : new Set());
    }
  }

  grow(agent: ModelAgent, confirmed: ReadonlySet<ToolId>): void {
    const computed = agent.expired ? new Set<ToolId>() : this.covered(agent.sponsor);
    const held = new Set<ToolId>();
    const pending = new Set<ToolId>();
    const rejected = new Set<ToolId>();
    for (const tool of computed) {
      if (agent.held.has(tool) || TOOLS[tool] === 'read' || confirmed.has(tool)) held.add(tool);
      else if (agent.rejected.has(tool)) rejected.add(tool);
      else pending.add(tool);
    }
    agent.held = held;
    agent.pending = pending;
    agent.rejected = rejected;
  }

  /** Rejections change nothing held; confirmations apply through the sponsor's recompute (queued by the confirmation). */
  decide(agent: ModelAgent, reject: ReadonlySet<ToolId>): void {
    const confirmed = new Set([...agent.pending].filter((tool) => !reject.has(tool)));
    for (const tool of agent.pending) if (reject.has(tool)) agent.rejected.add(tool);
    agent.pending = confirmed;
    if (confirmed.size > 0) this.recompute(agent.sponsor, confirmed, agent.id);
  }

  /** The rules after `command` (the same rules when it changes nothing). */
  edited(command: Extract<Command, { k: 'rule' }>): Rules {
    const current = this.rules[command.id];
    let next: ModelRule;
    if (current === null) next = command.op === 'remove' ? INITIAL_RULES[command.id] : { g: command.g, t: [command.t] };
    else if (command.op === 'remove') next = null;
    else if (command.op === 'group') next = { g: command.g, t: current.t };
    else if (!current.t.includes(command.t)) next = { g: current.g, t: TOOL_IDS.filter((tool) => tool === command.t || current.t.includes(tool)) };
    else next = current.t.length === 1 ? current : { g: current.g, t: current.t.filter((tool) => tool !== command.t) };
    return { ...this.rules, [command.id]: next };
  }

  /** A grant rule edit: every sponsor of a live agent is recomputed against the new rules (syncPolicy's outbox rows). */
  editRules(rules: Rules): boolean {
    if (JSON.stringify(rules) === JSON.stringify(this.rules)) return false;
    this.rules = rules;
    for (const sponsor of new Set(this.agents.map((agent) => agent.sponsor))) this.recompute(sponsor);
    return true;
  }

  /** Time passes `now`: the sweep recomputes the sponsors of agents that expired holding rights or open grants. */
  expire(now: number): void {
    const sponsors = new Set<number>();
    for (const agent of this.agents) {
      if (agent.expired || agent.expiresAt === null || agent.expiresAt > now) continue;
      agent.expired = true;
      if (agent.held.size > 0 || agent.pending.size > 0 || agent.rejected.size > 0) sponsors.add(agent.sponsor);
    }
    for (const sponsor of sponsors) this.recompute(sponsor);
  }
}

describe('governance model: random directory events through the real pipeline', () => {
  let database: TestDatabase;
  let store: Store;
  let policy: Policy;
  let redis: PrivateRedis;
  let queues: BullQueues;
  let workers: BullWorkers;
  const target = new RecordingTarget('t1');
  // Virtual time: an `expire` command jumps it forward; every use case and worker reads this clock.
  let offsetMs = 0;
  const clock = () => new Date(Date.now() + offsetMs);
  const groupIds = new Map<string, string>();
  let run = 0;
  /** The grant rules last synced into the store (null: POLICY_YAML's, as storeWithPolicy left them). */
  let storeRules: Rules | null = null;
  const sync = (rules: Rules) => {
    storeRules = rules;
  };

  const base = () => ({ store, queue: queues, clock, logger: silentLogger });

  beforeAll(async () => {
    database = await createTestDatabase();
    ({ store, policy } = await storeWithPolicy(database.db));
    redis = await startPrivateRedis();
    const settings = { redisUrl: redis.url, prefix: uniquePrefix('model'), targets: [{ id: 't1', maxAttempts: 20, backoffMs: 20, concurrency: 4 }] };
    queues = createBullQueues(settings);
    // As `tether worker` runs them: concurrent recompute jobs share batched transactions.
    const recompute = recomputeBatcher({ ...base(), policy: () => policy, governance: () => DEFAULT_GOVERNANCE_POLICY, targetIds: () => ['t1'] }, { maxBatch: 8, maxInFlight: 2 });
    workers = startBullWorkers({ ...settings, recomputeConcurrency: 8 }, {
      recompute: eachSponsor(recompute),
      push: (targetId, agentId, version) => deliverVersion({ store, connectors: new Map([['t1', target]]), clock, logger: silentLogger }, targetId, agentId, version),
    }, () => undefined);
    for (const group of GROUPS) groupIds.set(group, (await createGroup(base(), scimContext(), { displayName: group, externalId: null, resource: {} }, [])).id);
  });

  afterAll(async () => {
    await workers?.close();
    await queues?.close();
    await redis?.stop();
    await database?.drop();
  });

  const quiescent = () => waitFor(async () => {
    const pending = await database.db.query<{ n: number }>('select count(*)::int as n from outbox where done_at is null');
    return pending.rows[0]?.n === 0;
  }, { timeoutMs: 20_000, intervalMs: 5, what: 'a quiescent pipeline' });

  const atTarget = (agentId: string): string[] => {
    const latest = target.applied.filter((request) => request.agentId === agentId).sort((left, right) => left.version - right.version).at(-1);
    return (latest?.effective.map((entitlement) => entitlement.toolId) ?? []).sort();
  };

  async function apply(model: Model, personIds: string[], command: Command, label: string): Promise<void> {
    if (command.k === 'expire') {
      offsetMs += 2 * EXPIRES_IN_MS;
      await sweepExpiries({ ...base(), governance: () => DEFAULT_GOVERNANCE_POLICY });
      model.expire(clock().getTime());
      return;
    }
    if (command.k === 'decide') {
      // An agent with something to decide (check() compares every agent's open grants with the model anyway).
      const deciding = model.agents.filter((candidate) => candidate.pending.size > 0);
      const agent = deciding[command.a % Math.max(1, deciding.length)];
      if (agent === undefined) return;
      const grants = await listGrants({ ...base(), store }, agent.id, ['pending']);
      expect(grants.map((grant) => grant.toolId).sort()).toEqual([...agent.pending].sort());
      const reject = new Set(command.r);
      // Rejections first: a confirmation queues the sponsor's recompute at once.
      const ordered = [...grants].sort((left, right) => Number(!reject.has(left.toolId as ToolId)) - Number(!reject.has(right.toolId as ToolId)));
      for (const grant of ordered) {
        await decideGrant({ ...base(), store }, 'admin_token:model', agent.id, grant.id, reject.has(grant.toolId as ToolId) ? 'rejected' : 'confirmed');
      }
      model.decide(agent, reject);
      return;
    }
    if (command.k === 'rule') {
      const rules = model.edited(command);
      // The path a changed tether.yaml takes at startup (container.ts): syncPolicy versions the changed rules and,
      // in the same transaction, queues (outbox) a recompute of every sponsor of a live agent; the new process
      // computes with the policy it returns, and its outbox relay enqueues the rows. Tether reads tether.yaml only
      // at startup, so the policy is swapped before the relay runs, as a restart would.
      const synced = await syncPolicy(store, parseConfig(policyYaml(rules), '/tmp/tether-model.yaml'), clock());
      policy = synced.policy;
      sync(rules);
      model.editRules(rules);
      await relayOutboxOnce({ store, queue: queues, clock, logger: silentLogger, graceMs: 0, batchSize: 500 });
      return;
    }
    const person = model.people[command.p];
    const personId = personIds[command.p] ?? '';
    if (person === undefined || person.deleted) return;
    switch (command.k) {
      case 'join':
      case 'leave': {
        const groupId = groupIds.get(command.g) ?? '';
        if ((command.k === 'join') === person.groups.has(command.g)) return;
        await changeGroup(base(), scimContext(), groupId, command.k === 'join' ? { addMemberIds: [personId] } : { removeMemberIds: [personId] }, null);
        if (command.k === 'join') person.groups.add(command.g);
        else person.groups.delete(command.g);
        model.recompute(command.p);
        return;
      }
      case 'deactivate':
      case 'reactivate': {
        const active = command.k === 'reactivate';
        if (person.active === active) return;
        await updatePerson(base(), scimContext(), personId, (current) => ({ ...current, active }), null);
        person.active = active;
        model.recompute(command.p);
        return;
      }
      case 'delete': {
        const wasActive = person.active;
        await deletePerson(base(), scimContext(), personId, null);
        person.deleted = true;
        person.groups.clear();
        // Deleting someone already inactive changes nothing a rule reads: no recompute (change kind noop).
        if (wasActive) model.recompute(command.p);
        return;
      }
      case 'register': {
        const backup = command.b === null || command.b === command.p ? null : command.b;
        if (!model.usable(command.p) || (backup !== null && !model.usable(backup))) return;
        const expiresAt = command.e === null ? null : clock().getTime() + EXPIRES_IN_MS;
        const agent = await registerAgent({ ...base(), policy: () => policy }, { type: 'system', id: 'model' }, {
          name: `${label}-a${model.agents.length}`, purpose: 'model', environment: 'production', sponsor: { id: personId },
          backupSponsors: backup === null ? [] : [{ id: personIds[backup] ?? '' }], owner: null, requestedTools: Object.keys(TOOLS),
          expiresAt: command.e === 'agent' && expiresAt !== null ? new Date(expiresAt) : null,
          delegation: {
            approver: 'model', justification: 'model', tools: null, targetSystems: [], notBefore: null,
            expiresAt: command.e === 'delegation' && expiresAt !== null ? new Date(expiresAt) : null,
          },
        });
        model.agents.push({
          id: agent.id, sponsor: command.p, backups: backup === null ? [] : [backup], state: 'active', held: model.covered(command.p), pending: new Set(), rejected: new Set(),
          expiresAt, expired: false,
        });
        // A registration queues a recompute of its sponsor, which recomputes every agent of that sponsor.
        model.recompute(command.p);
      }
    }
  }

  async function check(model: Model, personIds: string[], step: string): Promise<void> {
    // Open grants in the store, per agent: exactly the model's pending and rejected growth (a confirmation is applied by now).
    const open = await database.db.query<{ agent_id: string; tool_id: string; status: string }>(
      `select agent_id, tool_id, status from pending_grants where agent_id = any($1::uuid[]) and status in ('pending', 'confirmed', 'rejected')`,
      [model.agents.map((agent) => agent.id)],
    );
    for (const agent of model.agents) {
      const grants = open.rows.filter((row) => row.agent_id === agent.id).map((row) => `${row.tool_id}:${row.status}`).sort();
      const expected = [...[...agent.pending].map((tool) => `${tool}:pending`), ...[...agent.rejected].map((tool) => `${tool}:rejected`)].sort();
      expect({ step, agent: agent.id, grants }).toEqual({ step, agent: agent.id, grants: expected });
    }
    for (const agent of model.agents) {
      const row = await database.db.query<{ sponsor_id: string; state: string }>('select sponsor_id, state from agents where id = $1', [agent.id]);
      const actual = atTarget(agent.id);
      // The invariant, against the store's own sponsor: nothing held at the target that the sponsor does not cover.
      const sponsorIndex = personIds.indexOf(row.rows[0]?.sponsor_id ?? '');
      const covered = model.covered(sponsorIndex);
      expect({ step, agent: agent.id, beyondCover: actual.filter((tool) => !covered.has(tool as ToolId)) }).toEqual({ step, agent: agent.id, beyondCover: [] });
      expect({ step, sponsor: sponsorIndex, state: row.rows[0]?.state, held: actual }).toEqual({ step, sponsor: agent.sponsor, state: agent.state, held: [...agent.held].sort() });
    }
  }

  it(`agrees with the reference model at every quiescent point (${RUNS} runs × up to ${STEPS} events)`, async () => {
    await fc.assert(
      // Who is in which group before the first event (so registrations and rule edits meet held rights early), then the events.
      fc.asyncProperty(fc.record({ Sales: fc.subarray(PERSON_INDEXES), Ops: fc.subarray(PERSON_INDEXES) }), fc.array(commandArb, { minLength: 1, maxLength: STEPS, size: 'medium' }), async (initial, commands) => {
        run += 1;
        const label = `r${run}`;
        const model = new Model();
        // Every run starts from the same rules (an earlier run may have edited them); earlier runs' agents are retired
        // below, so this resync recomputes nobody.
        if (storeRules !== INITIAL_RULES) {
          ({ policy } = await syncPolicy(store, parseConfig(policyYaml(INITIAL_RULES), '/tmp/tether-model.yaml'), clock()));
          sync(INITIAL_RULES);
        }
        const personIds: string[] = [];
        for (let index = 0; index < PEOPLE; index += 1) {
          const userName = `${label}-p${index}`;
          personIds.push((await createPerson(base(), scimContext(), { userName, externalId: null, displayName: null, active: true, attributes: {}, resource: { userName } })).id);
        }
        for (const group of GROUPS) {
          if (initial[group].length === 0) continue;
          await changeGroup(base(), scimContext(), groupIds.get(group) ?? '', { addMemberIds: initial[group].map((index) => personIds[index] ?? '') }, null);
          for (const index of initial[group]) model.people[index]?.groups.add(group);
        }
        try {
          await quiescent();
          for (const [index, command] of commands.entries()) {
            await apply(model, personIds, command, label);
            await quiescent();
            await check(model, personIds, `${index}: ${JSON.stringify(command)}`);
          }
        } finally {
          // Housekeeping, not a product path: a rule edit recomputes every sponsor of a live agent, and earlier runs'
          // agents would make later runs' edits slow. Retired agents are no sponsor's concern (allSponsors).
          await quiescent().catch(() => undefined);
          await database.db.query(`update agents set state = 'retired' where id = any($1::uuid[])`, [model.agents.map((agent) => agent.id)]);
        }
      }),
      // TETHER_MODEL_SEED (and TETHER_MODEL_PATH) replay a failure fast-check reported.
      { numRuns: RUNS, ...(process.env['TETHER_MODEL_SEED'] === undefined ? {} : { seed: Number(process.env['TETHER_MODEL_SEED']) }), ...(process.env['TETHER_MODEL_PATH'] === undefined ? {} : { path: process.env['TETHER_MODEL_PATH'] }) },
    );
  }, 120_000);
});
