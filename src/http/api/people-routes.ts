import { z } from 'zod';
import type { AgentListItem } from '../../app/queries/views.js';
import { AppError } from '../../domain/errors.js';
import type { RouteSpec } from './route-spec.js';
import { agentListSchema } from './schemas.js';

export interface PersonListItem {
  readonly id: string;
  readonly sourceId: string;
  readonly userName: string;
  readonly displayName: string | null;
  readonly active: boolean;
}

export interface PersonDetail extends PersonListItem {
  readonly externalId: string | null;
  /** The flattened attributes grant rules read (department, title, costCenter, manager...). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly groups: readonly { readonly id: string; readonly display: string }[];
  readonly updatedAt: Date;
}

/** People in the directory mirror as the admin API and dashboard show them; wired in src/main from the store. */
export interface PeopleApi {
  /** userName or displayName containing `q` (case-insensitive), across sources unless one is named. */
  search(query: { readonly q?: string; readonly sourceId?: string; readonly limit: number }): Promise<PersonListItem[]>;
  get(id: string): Promise<PersonDetail | null>;
  /** The agents the person sponsors (as primary sponsor). */
  sponsoredAgents(personId: string): Promise<AgentListItem[]>;
}

const timestamp = z.iso.datetime({ offset: true });

export const personListQuerySchema = z.strictObject({
  q: z.string().trim().min(1).max(200).optional(),
  sourceId: z.string().min(1).max(63).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const personItemSchema = z.object({ id: z.uuid(), sourceId: z.string(), userName: z.string(), displayName: z.string().nullable(), active: z.boolean() });

export const personListSchema = z.object({ items: z.array(personItemSchema) }).meta({ id: 'PersonList' });

export const personSchema = personItemSchema
  .extend({
    externalId: z.string().nullable(),
    attributes: z.record(z.string(), z.string()),
    groups: z.array(z.object({ id: z.uuid(), display: z.string() })),
    updatedAt: timestamp,
    sponsoredAgents: agentListSchema.shape.items,
  })
  .meta({ id: 'Person', description: 'A person from a directory source, their groups, and the agents they sponsor' });

const idParams = z.strictObject({ id: z.uuid() });

function respond<T extends z.ZodType>(schema: T, value: unknown): z.output<T> {
  return schema.parse(JSON.parse(JSON.stringify(value)));
}

export function peopleRoutes(api: PeopleApi): RouteSpec[] {
  return [
    {
      method: 'get', path: '/people', operationId: 'listPeople', tag: 'people', role: 'viewer',
      summary: 'Search people by userName or display name (case-insensitive substring), optionally within one source',
      query: personListQuerySchema,
      responses: { 200: { description: 'Matching people', schema: personListSchema } },
      async handle({ query }) {
        const { q, sourceId, limit } = query as z.output<typeof personListQuerySchema>;
        const items = await api.search({ limit, ...(q === undefined ? {} : { q }), ...(sourceId === undefined ? {} : { sourceId }) });
        return { status: 200, body: respond(personListSchema, { items }) };
      },
    },
    {
      method: 'get', path: '/people/:id', operationId: 'getPerson', tag: 'people', role: 'viewer',
      summary: 'A person with their groups, the attributes grant rules read, and the agents they sponsor',
      params: idParams,
      responses: { 200: { description: 'The person', schema: personSchema } },
      async handle({ params }) {
        const { id } = params as z.output<typeof idParams>;
        const person = await api.get(id);
        if (person === null) throw new AppError('not_found', 'person not found', { detail: `Person ${id} not found` });
        return { status: 200, body: respond(personSchema, { ...person, sponsoredAgents: await api.sponsoredAgents(id) }) };
      },
    },
  ];
}
