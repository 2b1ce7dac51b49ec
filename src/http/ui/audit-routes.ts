import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { exportAuditLog, searchAuditLog } from '../../app/governance/audit-log.js';
import { AppError, isAppError } from '../../domain/errors.js';
import { auditExportQuerySchema, auditJsonLine, NDJSON, toAuditFilter } from '../api/audit-routes.js';
import type { UiDeps } from './deps.js';
import type { Html } from './html.js';
import type { NavItem } from './layout.js';
import { auditBody, type AuditFormValues } from './pages/audit.js';

export interface AuditPagesDeps extends UiDeps {
  readonly actorOf: (request: Request) => string;
  readonly render: (request: Request, title: string, nav: NavItem | null, body: Html) => Html;
}

const PAGE = 100;
const text = (max: number) => z.string().trim().max(max).catch('');
const form = z.object({
  actor: text(300), action: text(200), subjectType: text(100), subjectId: text(300), from: text(40), to: text(40),
  cursor: z.string().regex(/^[0-9]{1,18}$/).optional().catch(undefined),
});

/** A form time without a zone is UTC (the page says so); the API's own schema then validates it. */
function utc(value: string): string | undefined {
  if (value === '') return undefined;
  return /(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`;
}

/** The form values as the admin API's filter (same schema), or the problem with them. */
function filterOf(values: AuditFormValues) {
  const parsed = auditExportQuerySchema.safeParse(Object.fromEntries(
    Object.entries({ ...values, from: utc(values.from), to: utc(values.to) }).filter(([, value]) => value !== undefined && value !== ''),
  ));
  if (parsed.success) return { filter: toAuditFilter(parsed.data), problem: null };
  const problem = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
  return { filter: null, problem };
}

/** The audit log page and its JSON lines export, through the admin API's own use cases and dependencies. */
export function auditPages(deps: AuditPagesDeps): Router {
  const router = Router();
  const audit = () => {
    if (deps.api.audit === undefined) throw new AppError('not_found', 'audit log not available', { detail: 'The audit log is not available' });
    return deps.api.audit;
  };

  router.get('/audit', async (request: Request, response: Response) => {
    const { cursor, ...values } = form.parse(request.query);
    const { filter, problem } = filterOf(values);
    let page = { items: [] as Awaited<ReturnType<typeof searchAuditLog>>['items'], next: null as string | null };
    let shown = problem;
    if (filter !== null) {
      try {
        page = await searchAuditLog(audit(), filter, cursor ?? null, PAGE);
      } catch (error) {
        if (!isAppError(error) || error.code !== 'invalid_input') throw error;
        shown = error.detail ?? error.message;
      }
    }
    response.type('html').send(deps.render(request, 'Audit log', 'audit', auditBody({ values, items: page.items, next: page.next, problem: shown })).value);
  });

  router.get('/audit/export', async (request: Request, response: Response) => {
    const { filter, problem } = filterOf(form.parse(request.query));
    if (filter === null) throw new AppError('invalid_input', 'invalid filters', { detail: problem ?? 'invalid filters' });
    const entries = exportAuditLog(audit(), deps.actorOf(request), filter);
    const first = await entries.next();
    response.type(NDJSON).setHeader('Content-Disposition', 'attachment; filename="tether-audit.jsonl"');
    try {
      for (let next = first; next.done !== true; next = await entries.next()) {
        if (response.destroyed) break;
        if (!response.write(auditJsonLine(next.value))) await new Promise((done) => response.once('drain', done).once('close', done));
      }
      response.end();
    } catch (error) {
      deps.logger.error({ err: error, requestId: request.id }, 'audit export from the dashboard failed midway');
      response.destroy();
    } finally {
      await entries.return(undefined);
    }
  });
  return router;
}
