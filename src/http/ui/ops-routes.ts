import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { roleAtLeast, type Role } from '../../app/auth/tokens.js';
import { runWhatIf } from '../../app/governance/what-if.js';
import { AppError, isAppError } from '../../domain/errors.js';
import { hypothesisOf } from '../api/governance-routes.js';
import { whatIfReportSchema, whatIfSchema } from '../api/governance-schemas.js';
import { deadLetterSchema, targetSchema } from '../api/target-routes.js';
import type { UiDeps } from './deps.js';
import { requireUiRole } from './guards.js';
import type { Html } from './html.js';
import type { NavItem } from './layout.js';
import { sourcesBody, sourcesFragment, type SourcesData } from './pages/sources.js';
import { targetsBody, targetsFragment, type TargetsData } from './pages/targets.js';
import { EMPTY_WHAT_IF, WHAT_IF_KINDS, whatIfBody, type WhatIfFormValues, type WhatIfPageData } from './pages/what-if.js';

export interface OpsPagesDeps extends UiDeps {
  readonly actorOf: (request: Request) => string;
  readonly render: (request: Request, title: string, nav: NavItem | null, body: Html) => Html;
}

/** Dead letters shown per target on the page; the rest are counted and reachable through the API and CLI. */
const DEAD_LETTER_PAGE = 50;
const RUN_HISTORY = 20;

const sourceParams = z.object({ id: z.string().min(1).max(63) });
const heldParams = z.object({ id: z.string().min(1).max(63), runId: z.coerce.number().int().positive(), action: z.enum(['confirm', 'discard']) });
const targetParams = z.object({ id: z.string().min(1).max(63) });
const deadLetterParams = z.object({ id: z.string().min(1).max(63), jobId: z.string().min(1).max(200) });
/** Outcome notices after POST-redirect-GET: fixed vocabulary only, so a link can never put words on the page. */
const doneQuery = z.object({ done: z.enum(['retried', 'retried-all', 'reconcile', 'confirmed', 'discarded']).optional().catch(undefined), n: z.coerce.number().int().min(0).optional().catch(undefined) });

const list = (value: string) => value.split(',').map((item) => item.trim()).filter((item) => item !== '');
const formText = (max: number) => z.string().trim().max(max).catch('');
const whatIfForm = z.object({
  kind: z.enum(WHAT_IF_KINDS).catch('sponsor_leaves'),
  person: formText(320), from: formText(2000), to: formText(2000),
  ruleId: formText(63), ruleGroups: formText(2000), ruleAttribute: formText(200), ruleValues: formText(2000), ruleTools: formText(4000),
});

/** Path parameters, or the page's 404: a malformed URL names nothing, it is not a server error. */
function params<T extends z.ZodType>(schema: T, request: Request): z.output<T> {
  const parsed = schema.safeParse(request.params);
  if (!parsed.success) throw new AppError('not_found', 'no such page', { detail: `No page ${request.originalUrl.split('?')[0] ?? ''}` });
  return parsed.data;
}

function send(response: Response, markup: Html): void {
  response.type('html').send(markup.value);
}

const roleOf = (request: Request): Role => request.session.user?.role ?? 'viewer';

/** Sources, targets and the what-if form: each reads and acts through the admin API's own dependencies and use cases. */
export function opsPages(deps: OpsPagesDeps): Router {
  const router = Router();
  const { api } = deps;
  const sources = () => {
    if (api.sources === undefined) throw new AppError('not_found', 'no sources', { detail: 'No directory sources' });
    return api.sources;
  };
  const targets = () => {
    if (api.targets === undefined) throw new AppError('not_found', 'no targets', { detail: 'Targets are not available on this instance' });
    return api.targets;
  };
  const agentNames = async (ids: Iterable<string>) => {
    const unique = [...new Set(ids)].slice(0, 200);
    const views = await Promise.all(unique.map((id) => api.readModels.getAgent(id)));
    return new Map(views.flatMap((view) => (view === null ? [] : [[view.id, view.name] as const])));
  };

  const userNames = async (ids: Iterable<string | null>) => {
    const unique = [...new Set([...ids].filter((id): id is string => id !== null))].slice(0, 200);
    const found = await Promise.all(unique.map((id) => api.people?.get(id) ?? Promise.resolve(null)));
    return new Map(found.flatMap((person) => (person === null ? [] : [[person.id, person.userName] as const])));
  };

  const targetsData = async (request: Request): Promise<TargetsData> => {
    const [items, status] = await Promise.all([api.targets?.list() ?? Promise.resolve([]), api.status()]);
    const parsed = items.map((item) => targetSchema.parse(JSON.parse(JSON.stringify(item))));
    const pages = await Promise.all(parsed.map(async (target) => {
      const page = target.deadLetters === 0 ? { items: [], total: 0 } : await targets().deadLetters(target.id, 0, DEAD_LETTER_PAGE);
      return [target.id, { items: page.items.map((item) => deadLetterSchema.parse(JSON.parse(JSON.stringify(item)))), total: page.total }] as const;
    }));
    const deadLetters = new Map(pages);
    return {
      targets: parsed, queues: status.queues, deadLetters,
      agentNames: await agentNames([...deadLetters.values()].flatMap((page) => page.items.map((item) => item.agentId))),
      canRetry: roleAtLeast(roleOf(request), 'operator'), csrf: request.session.csrf ?? '',
    };
  };
  const sourcesData = async (request: Request): Promise<SourcesData> => {
    const [items, status] = await Promise.all([api.sources?.list() ?? Promise.resolve([]), api.status()]);
    const runs = new Map(await Promise.all(items.filter((source) => source.sync !== null).map(async (source) => [source.id, await sources().runs(source.id, RUN_HISTORY)] as const)));
    return {
      sources: items, counts: status.sources, runs,
      canReconcile: roleAtLeast(roleOf(request), 'operator'), canDecide: roleAtLeast(roleOf(request), 'admin'), csrf: request.session.csrf ?? '',
    };
  };

  router.get('/targets', async (request, response) => {
    const { done, n } = doneQuery.parse(request.query);
    const message = done === 'retried' ? 'The push was queued again.' : done === 'retried-all' ? `${n ?? 0} dead letter(s) queued again.` : undefined;
    send(response, deps.render(request, 'Targets', 'targets', targetsBody(await targetsData(request), message)));
  });
  router.get('/fragments/targets', async (request, response) => {
    send(response, targetsFragment(await targetsData(request)));
  });
  router.post('/targets/:id/dead-letters/retry-all', requireUiRole('operator'), async (request, response) => {
    const { id } = params(targetParams, request);
    const retried = await targets().retryAll(id, deps.actorOf(request));
    response.redirect(303, `/ui/targets?done=retried-all&n=${retried}#dead-${encodeURIComponent(id)}`);
  });
  router.post('/targets/:id/dead-letters/:jobId/retry', requireUiRole('operator'), async (request, response) => {
    const { id, jobId } = params(deadLetterParams, request);
    if (!(await targets().retry(id, jobId, deps.actorOf(request)))) {
      throw new AppError('not_found', 'dead letter not found', { detail: `No failed push ${jobId} on target ${id}: it may have been retried already` });
    }
    response.redirect(303, `/ui/targets?done=retried#dead-${encodeURIComponent(id)}`);
  });

  router.get('/sources', async (request, response) => {
    const { done } = doneQuery.parse(request.query);
    const message = done === 'reconcile' ? 'A full reconciliation was queued; its run appears below when it starts.'
      : done === 'confirmed' ? 'The held run was confirmed; a full reconciliation that may apply its removals was queued.'
        : done === 'discarded' ? 'The held run was discarded; nothing was applied.' : undefined;
    send(response, deps.render(request, 'Sources', 'sources', sourcesBody(await sourcesData(request), message)));
  });
  router.get('/fragments/sources', async (request, response) => {
    send(response, sourcesFragment(await sourcesData(request)));
  });
  router.post('/sources/:id/reconcile', requireUiRole('operator'), async (request, response) => {
    const { id } = params(sourceParams, request);
    // Audited by the use case (source.reconcile_requested), like a reconcile requested through the API.
    await sources().reconcile(id, deps.actorOf(request));
    response.redirect(303, `/ui/sources?done=reconcile#source-${encodeURIComponent(id)}`);
  });
  // Admin, as in the API: confirming lets a mass removal through that the circuit breaker stopped.
  router.post('/sources/:id/held-runs/:runId/:action', requireUiRole('admin'), async (request, response) => {
    const { id, runId, action } = params(heldParams, request);
    await sources().decide(id, runId, action === 'confirm' ? 'confirmed' : 'discarded', deps.actorOf(request));
    response.redirect(303, `/ui/sources?done=${action === 'confirm' ? 'confirmed' : 'discarded'}#source-${encodeURIComponent(id)}`);
  });

  const renderWhatIf = (request: Request, data: Omit<WhatIfPageData, 'csrf'>) =>
    deps.render(request, 'What-if', 'what-if', whatIfBody({ ...data, csrf: request.session.csrf ?? '' }));
  router.get('/what-if', (request, response) => {
    send(response, renderWhatIf(request, { values: EMPTY_WHAT_IF }));
  });
  // A POST although it changes nothing: the same operation as POST /api/v1/what-if, and CSRF applies all the same.
  router.post('/what-if', async (request, response) => {
    const values: WhatIfFormValues = whatIfForm.parse(request.body ?? {});
    const governance = api.governance;
    if (governance === undefined) throw new AppError('not_found', 'no governance', { detail: 'What-if is not available on this instance' });
    const body = await requestBody(values);
    if (typeof body === 'string') {
      response.status(422);
      send(response, renderWhatIf(request, { values, error: body }));
      return;
    }
    let outcome: unknown;
    try {
      outcome = await runWhatIf(governance.whatIf, hypothesisOf(body));
    } catch (error) {
      if (!isAppError(error) || (error.code !== 'not_found' && error.code !== 'invalid_input')) throw error;
      response.status(error.status);
      send(response, renderWhatIf(request, { values, error: error.detail ?? error.message }));
      return;
    }
    const report = whatIfReportSchema.parse(JSON.parse(JSON.stringify(outcome)));
    const changed = report.agents.length;
    const people = report.agents.flatMap((item) => [item.sponsorId, ...(item.reassignment === null ? [] : [item.reassignment.kind === 'backup' ? item.reassignment.sponsorId : item.reassignment.proposal.sponsorId])]);
    const [names, personNames] = await Promise.all([agentNames(report.agents.map((item) => item.agentId)), userNames(people)]);
    send(response, renderWhatIf(request, {
      values,
      result: { report, agentNames: names, personNames, summary: `${changed} agent${changed === 1 ? '' : 's'} would change` },
    }));
  });

  /** The form as the API's what-if body, or what is wrong with it in words. */
  async function requestBody(values: WhatIfFormValues): Promise<z.output<typeof whatIfSchema> | string> {
    let candidate: unknown;
    if (values.kind === 'rule_edited') {
      const when = [
        ...list(values.ruleGroups).map((group) => ({ group })),
        ...(values.ruleAttribute === '' ? [] : [{ attribute: values.ruleAttribute, in: list(values.ruleValues) }]),
      ];
      if (values.ruleId === '') return 'Give the id of the rule to edit (or of a new rule).';
      candidate = { kind: 'rule_edited', rule: { id: values.ruleId, when, tools: list(values.ruleTools) } };
    } else {
      const personId = await resolvePerson(values.person);
      if (personId === null) return values.person === '' ? 'Give the sponsor: a user name or a person id.' : `No person with user name or id “${values.person}”.`;
      candidate = values.kind === 'sponsor_leaves' ? { kind: 'sponsor_leaves', personId } : { kind: 'sponsor_moves', personId, from: list(values.from), to: list(values.to) };
    }
    const parsed = whatIfSchema.safeParse(candidate);
    return parsed.success ? parsed.data : parsed.error.issues.map((issue) => `${issue.path.join('.') || 'form'}: ${issue.message}`).join('; ');
  }

  /** A person id as given, or the person whose user name matches exactly (case-insensitively). */
  async function resolvePerson(text: string): Promise<string | null> {
    if (text === '') return null;
    if (z.uuid().safeParse(text).success) return text;
    const found = await api.people?.search({ q: text, limit: 50 }) ?? [];
    return found.find((person) => person.userName.toLowerCase() === text.toLowerCase())?.id ?? null;
  }

  return router;
}
