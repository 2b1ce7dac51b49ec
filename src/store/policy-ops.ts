import type { GrantRule, Tool } from '../domain/types.js';
import { canonicalJson } from './audit.js';
import type { Queryable } from './db.js';

type RuleDefinition = Omit<GrantRule, 'version'>;

/** The definition stored as the version that records a rule's removal from tether.yaml. */
const REMOVED = { removed: true } as const;

function isRemoval(definition: unknown): boolean {
  return typeof definition === 'object' && definition !== null && (definition as { removed?: unknown }).removed === true;
}

/** Sources, tools and grant rules from tether.yaml, mirrored so provenance can name a rule version forever. */
export function policyOps(q: Queryable) {
  return {
    /** Serialises policy syncs of processes starting together (transaction-scoped). */
    async lockPolicy(): Promise<void> {
      await q.query('select pg_advisory_xact_lock(7406095)');
    },

    async upsertSources(sources: readonly { id: string; kind: 'scim' | 'ldap'; displayName: string }[]): Promise<void> {
      for (const source of sources) {
        await q.query(
          `insert into sources (id, kind, display_name) values ($1, $2, $3)
           on conflict (id) do update set kind = excluded.kind, display_name = excluded.display_name`,
          [source.id, source.kind, source.displayName],
        );
      }
    },

    async upsertTools(tools: readonly Tool[], now: Date): Promise<void> {
      for (const tool of tools) {
        await q.query(
          `insert into tools (id, system, risk, updated_at) values ($1, $2, $3, $4)
           on conflict (id) do update set system = excluded.system, risk = excluded.risk, updated_at = excluded.updated_at
             where tools.system <> excluded.system or tools.risk <> excluded.risk`,
          [tool.id, tool.system, tool.risk, now],
        );
      }
    },

    /**
     * Gives each rule its version: unchanged definitions keep theirs, changed or new ones get the next. A rule
     * that is no longer in tether.yaml gets a removal version (a tombstone), so its removal is a change — every
     * agent is recomputed and loses what only that rule granted — and putting it back later is one too.
     * Returns the versioned rules and whether anything changed (so every agent gets recomputed).
     */
    async versionRules(rules: readonly RuleDefinition[], now: Date): Promise<{ rules: GrantRule[]; changed: boolean }> {
      const stored = await q.query<{ id: string; version: number; definition: unknown }>(
        'select distinct on (id) id, version, definition from grant_rules order by id, version desc',
      );
      const latest = new Map(stored.rows.map((row) => [row.id, row]));
      const addVersion = async (id: string, version: number, definition: unknown) => {
        await q.query('insert into grant_rules (id, version, definition, created_at) values ($1, $2, $3, $4)', [id, version, JSON.stringify(definition), now]);
      };
      const versioned: GrantRule[] = [];
      let changed = false;
      for (const rule of rules) {
        const current = latest.get(rule.id);
        if (current !== undefined && canonicalJson(current.definition) === canonicalJson(rule)) {
          versioned.push({ ...rule, version: current.version });
          continue;
        }
        const version = (current?.version ?? 0) + 1;
        await addVersion(rule.id, version, rule);
        versioned.push({ ...rule, version });
        changed = true;
      }
      const configured = new Set(rules.map((rule) => rule.id));
      for (const [id, current] of latest) {
        if (configured.has(id) || isRemoval(current.definition)) continue;
        await addVersion(id, current.version + 1, REMOVED);
        changed = true;
      }
      return { rules: versioned, changed };
    },

    /** Every person who sponsors a non-retired agent: recompute targets after a policy change. */
    async allSponsors(): Promise<string[]> {
      const result = await q.query<{ id: string }>(
        `select distinct sponsor_id as id from agents where state <> 'retired'`,
      );
      return result.rows.map((row) => row.id);
    },
  };
}
