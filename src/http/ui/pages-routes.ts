import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { roleAtLeast } from '../../app/auth/tokens.js';
import { decideGrant, listGrants } from '../../app/governance/grants.js';
import { AGENT_STATES, ENVIRONMENTS } from '../../domain/types.js';
import { AppError } from '../../domain/errors.js';
import type { Html } from './html.js';
import type { NavItem } from './layout.js';
import { agentBody, rightsFragment } from './pages/agent.js';
import { agentsBody } from './pages/agents.js';
import { overviewBody, overviewFragment, type OverviewData } from './pages/overview.js';
import { peopleBody, personBody } from './pages/people.js';
import type { UiDeps } from './deps.js';
import { requireUiRole } from './guards.js';
import { auditPages } from './audit-routes.js';
import { opsPages } from './ops-routes.js';

interface PagesDeps extends UiDeps {
  readonly actorOf: (request: Request) => string;
  readonly render: (request: Request, title: string, nav: NavItem | null, body: Html) => Html;
}

const uuid = z.uuid();
const LIST_LIMIT = 500;

const agentFilters = z.object({
  q: z.string().trim().max(200).optional().catch(undefined),
  state: z.enum(AGENT_STATES).optional().catch(undefined),
  environment: z.enum(ENVIRONMENTS).optional().catch(undefined),
  tool: z.string().trim().min(1).max(200).optional().catch(undefined),
});

function idParam(request: Request, name: string, what: string): string {
  const parsed = uuid.safeParse(request.params[name]);
  if (!parsed.success) throw new AppError('not_found', `${what} not found`, { detail: `No such ${what}` });
  return parsed.data;
}

function html(response: Response, markup: Html): void {
  response.type('html').send(markup.value);
}

/** The dashboard's pages and actions, behind sign-in; each reads through the admin API's own dependencies. */
export function uiPages(deps: PagesDeps): Router {
  const router = Router();
  const { api } = deps;

  const overview = async (): Promise<OverviewData> => {
    const [status, sources, events, latency] = await Promise.all([
      api.status(),
      api.sources?.list() ?? Promise.resolve([]),
      api.readModels.listChangeEvents({ limit: 200 }),
      api.metrics?.propagationLatency({ minutes: 60, bucketSeconds: 60 }) ?? Promise.resolve(null),
    ]);
    return { status, sources, events, latency };
  };
  const agent = async (id: string) => {
    const view = await api.readModels.getAgent(id);
    if (view === null) throw new AppError('not_found', 'agent not found', { detail: `Agent ${id} not found` });
    return view;
  };

  router.get('/', async (request, response) => {
    html(response, deps.render(request, 'Overview', 'overview', overviewBody(await overview())));
  });
  router.get('/fragments/overview', async (_request, response) => {
    html(response, overviewFragment(await overview()));
  });

  router.get('/agents', async (request, response) => {
    const filters = agentFilters.parse(request.query);
    const { q, ...rest } = filters;
    const query = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as { state?: (typeof AGENT_STATES)[number]; environment?: (typeof ENVIRONMENTS)[number]; tool?: string };
    const items = await api.readModels.listAgents({ ...query, limit: LIST_LIMIT });
    const needle = q?.toLowerCase();
    const shown = needle === undefined || needle === '' ? items : items.filter((item) => item.name.toLowerCase().includes(needle));
    const defined = Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined));
    html(response, deps.render(request, 'Agents', 'agents', agentsBody(shown, defined, items.length === LIST_LIMIT)));
  });
  router.get('/agents/:id', async (request, response) => {
    const id = idParam(request, 'id', 'agent');
    const view = await agent(id);
    const role = request.session.user?.role ?? 'viewer';
    const [versions, grants] = await Promise.all([
      api.history?.versions(id, 20) ?? Promise.resolve([]),
      api.governance !== undefined && roleAtLeast(role, 'operator') ? listGrants(api.governance.grants, id, ['pending']) : Promise.resolve(null),
    ]);
    const csrf = request.session.csrf ?? '';
    const rendered = deps.render(request, view.name, 'agents', agentBody({ agent: view, versions: versions ?? [], grants, csrf }));
    html(response, rendered);
  });
  router.get('/fragments/agents/:id/rights', async (request, response) => {
    html(response, rightsFragment(await agent(idParam(request, 'id', 'agent'))));
  });

  router.get('/people', async (request, response) => {
    const q = z.string().trim().min(1).max(200).optional().catch(undefined).parse(request.query['q']);
    const items = api.people === undefined ? [] : await api.people.search({ limit: 100, ...(q === undefined ? {} : { q }) });
    html(response, deps.render(request, 'People', 'people', peopleBody(items, q)));
  });
  router.get('/people/:id', async (request, response) => {
    const id = idParam(request, 'id', 'person');
    const person = await api.people?.get(id);
    if (person === undefined || person === null) throw new AppError('not_found', 'person not found', { detail: `Person ${id} not found` });
    const agents = await api.people?.sponsoredAgents(id) ?? [];
    html(response, deps.render(request, person.displayName ?? person.userName, 'people', personBody(person, agents)));
  });

  router.post('/agents/:id/grants/:grantId/:action', requireUiRole('operator'), async (request, response) => {
    const id = idParam(request, 'id', 'agent');
    const grantId = idParam(request, 'grantId', 'grant');
    const action = request.params['action'];
    if ((action !== 'confirm' && action !== 'reject') || api.governance === undefined) throw new AppError('not_found', 'no such action', { detail: 'No such action' });
    await decideGrant(api.governance.grants, deps.actorOf(request), id, grantId, action === 'confirm' ? 'confirmed' : 'rejected');
    response.redirect(303, `/ui/agents/${id}#grants`);
  });
  // Sources (reconcile, held runs), targets (dead letters, retry) and the what-if form.
  router.use(opsPages(deps));
  // The audit log: search, JSON lines export (docs/governance.md).
  router.use(auditPages(deps));
  return router;
}
