import { z } from 'zod';
import { explainAgentTool, type ExplainDeps } from '../../app/governance/explain.js';
import { decideGrant, listGrants, type GrantsDeps } from '../../app/governance/grants.js';
import { reassignAgent, type SponsorshipAdminDeps } from '../../app/governance/reassign.js';
import { runWhatIf, type WhatIfDeps } from '../../app/governance/what-if.js';
import type { Hypothesis } from '../../domain/what-if.js';
import { actorOf, type RouteSpec } from './route-spec.js';
import {
  explainQuerySchema, explanationSchema, grantListQuerySchema, grantListSchema, grantParams, grantSchema, reassignSchema, whatIfReportSchema, whatIfSchema,
} from './governance-schemas.js';

/** The governance use cases as the admin API needs them; wired in src/main. */
export interface GovernanceApi {
  readonly grants: GrantsDeps;
  readonly sponsorship: SponsorshipAdminDeps;
  readonly explain: ExplainDeps;
  readonly whatIf: WhatIfDeps;
}

const idParams = z.strictObject({ id: z.uuid() });

function respond<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  return schema.parse(JSON.parse(JSON.stringify(value)));
}

export function hypothesisOf(body: z.output<typeof whatIfSchema>): Hypothesis {
  switch (body.kind) {
    case 'sponsor_leaves':
      return body;
    case 'sponsor_moves':
      return { kind: 'sponsor_moves', personId: body.personId, leaveGroups: body.from, joinGroups: body.to };
    case 'rule_edited':
      return {
        kind: 'rule_edited',
        rule: {
          id: body.rule.id,
          tools: body.rule.tools,
          when: body.rule.when.map((condition) => ('group' in condition ? { kind: 'group', group: condition.group } : { kind: 'attribute', attribute: condition.attribute, values: condition.in })),
        },
      };
  }
}

export function governanceRoutes(api: GovernanceApi): RouteSpec[] {
  return [
    {
      method: 'get', path: '/agents/:id/pending-grants', operationId: 'listPendingGrants', tag: 'governance', role: 'operator',
      summary: 'Growth of write/orchestrate tools waiting for confirmation by the sponsor or an admin',
      params: idParams,
      query: grantListQuerySchema,
      responses: { 200: { description: 'Pending grants', schema: grantListSchema } },
      async handle({ params, query }) {
        const { status } = query as z.output<typeof grantListQuerySchema>;
        const items = await listGrants(api.grants, (params as z.output<typeof idParams>).id, status === undefined ? ['pending', 'confirmed'] : [status]);
        return { status: 200, body: respond(grantListSchema, { items }) };
      },
    },
    ...(['confirm', 'reject'] as const).map((action): RouteSpec => ({
      method: 'post', path: `/agents/:id/pending-grants/:grantId/${action}`, operationId: `${action}PendingGrant`, tag: 'governance', role: 'operator',
      summary: action === 'confirm'
        ? 'Confirm a pending grant: the tool takes effect through a recompute (a new entitlement version)'
        : 'Reject a pending grant: the tool stays out while the sponsor covers it',
      params: grantParams,
      responses: { 200: { description: 'The decided grant', schema: grantSchema } },
      async handle({ params, request }) {
        const { id, grantId } = params as z.output<typeof grantParams>;
        const grant = await decideGrant(api.grants, actorOf(request), id, grantId, action === 'confirm' ? 'confirmed' : 'rejected');
        return { status: 200, body: respond(grantSchema, grant) };
      },
    })),
    {
      method: 'post', path: '/agents/:id/reassign', operationId: 'reassignAgent', tag: 'governance', role: 'operator',
      summary: 'Give an agent a new primary sponsor; an agent waiting for reassignment (or suspended for lack of one) becomes active',
      params: idParams,
      body: reassignSchema,
      responses: { 202: { description: 'Reassigned; rights are recomputed against the new sponsor' } },
      async handle({ params, body, request }) {
        await reassignAgent(api.sponsorship, actorOf(request), (params as z.output<typeof idParams>).id, (body as z.output<typeof reassignSchema>).sponsor);
        return { status: 202 };
      },
    },
    {
      method: 'get', path: '/agents/:id/explain', operationId: 'explainTool', tag: 'governance', role: 'viewer',
      summary: 'Why an agent holds a tool (the chain from directory change to target), or the first link that failed; ?at= for the past',
      params: idParams,
      query: explainQuerySchema,
      responses: { 200: { description: 'The explanation', schema: explanationSchema } },
      async handle({ params, query }) {
        const { tool, at } = query as z.output<typeof explainQuerySchema>;
        const explanation = await explainAgentTool(api.explain, (params as z.output<typeof idParams>).id, tool, at === undefined ? null : new Date(at));
        return { status: 200, body: respond(explanationSchema, explanation) };
      },
    },
    {
      method: 'post', path: '/what-if', operationId: 'whatIf', tag: 'governance', role: 'viewer',
      summary: 'Which agents would lose, gain or wait for which tools, and which would go to reassignment, if this change happened; changes nothing',
      body: whatIfSchema,
      responses: { 200: { description: 'The predicted effect', schema: whatIfReportSchema } },
      async handle({ body }) {
        const report = await runWhatIf(api.whatIf, hypothesisOf(body as z.output<typeof whatIfSchema>));
        return { status: 200, body: respond(whatIfReportSchema, report) };
      },
    },
  ];
}
