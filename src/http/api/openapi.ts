import { z } from 'zod';
import { problemSchema } from './schemas.js';
import type { RouteSpec } from './route-spec.js';

type JsonSchema = Record<string, unknown>;

/**
 * Builds the OpenAPI 3.1 document from the same route specs and zod schemas that serve requests.
 * Named schemas (`.meta({ id })`) become components; OpenAPI 3.1 uses JSON Schema 2020-12, which is
 * what zod emits.
 */
export function buildOpenApi(routes: readonly RouteSpec[], info: { version: string }): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  const convert = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
    const defs = (json['$defs'] ?? {}) as Record<string, JsonSchema>;
    delete json['$defs'];
    delete json['$schema'];
    for (const [name, definition] of Object.entries(defs)) components[componentName(name, io)] ??= rewriteRefs(definition, io);
    const id = json['id'];
    if (typeof id === 'string') {
      delete json['id'];
      components[componentName(id, io)] ??= rewriteRefs(json, io);
      return { $ref: `#/components/schemas/${componentName(id, io)}` };
    }
    return rewriteRefs(json, io);
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters = [
      ...parameterList(route.params, 'path', convert),
      ...parameterList(route.query, 'query', convert),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      responses[status] = {
        description: response.description,
        ...(response.schema === undefined ? {} : { content: { [response.contentType ?? 'application/json']: { schema: convert(response.schema, 'output') } } }),
      };
    }
    responses['default'] = { description: 'Error', content: { 'application/problem+json': { schema: convert(problemSchema, 'output') } } };
    paths[path] ??= {};
    paths[path][route.method] = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.tag],
      'x-required-role': route.role,
      ...(parameters.length === 0 ? {} : { parameters }),
      ...(route.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: convert(route.body, 'input') } } } }),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Tether admin API', version: info.version, description: 'Agents, their effective entitlements with provenance, change events and sync status.' },
    servers: [{ url: '/api/v1' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An admin API token (role viewer, operator or admin)' } },
    },
  };
}

function componentName(id: string, io: 'input' | 'output'): string {
  return io === 'input' ? `${id}Input` : id;
}

function rewriteRefs(schema: JsonSchema, io: 'input' | 'output'): JsonSchema {
  return JSON.parse(
    JSON.stringify(schema).replace(/"#\/\$defs\/([^"]+)"/g, (_match, name: string) => `"#/components/schemas/${componentName(name, io)}"`),
  ) as JsonSchema;
}

function parameterList(schema: z.ZodObject | undefined, location: 'path' | 'query', convert: (schema: z.ZodType, io: 'input') => JsonSchema): unknown[] {
  if (schema === undefined) return [];
  return Object.entries(schema.shape).map(([name, field]) => ({
    name,
    in: location,
    required: location === 'path' || !(field as z.ZodType).safeParse(undefined).success,
    schema: convert(field as z.ZodType, 'input'),
  }));
}
