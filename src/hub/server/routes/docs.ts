/**
 * GET /api/docs: the OpenAPI 3.1 document of the hub's API, generated from the same zod schemas the routes
 * validate with (zod 4's `z.toJSONSchema`), so the document cannot drift from the validation.
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';

export type HttpMethod = 'get' | 'post' | 'put' | 'delete' | 'head';

/** One operation as a route plugin describes it; `path` in OpenAPI form (`/api/datasets/{name}`). */
export interface RouteDoc {
  method: HttpMethod;
  path: string;
  summary: string;
  tags?: string[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Status -> description and (optionally) the body's schema. */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
}

/** Body of every 4xx/5xx response (see api-types.ts ApiErrorBody). */
export const errorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

export interface DocsRoutesOptions {
  routes: readonly RouteDoc[];
  title?: string;
  version?: string;
}

export const docsRoutes: FastifyPluginAsync<DocsRoutesOptions> = async (app, opts) => {
  const doc = openApiDocument(opts.routes, opts.title ?? 'Training Ground hub API', opts.version ?? '0.1.0');
  app.get('/api/docs', async () => doc);
};

export function openApiDocument(
  routes: readonly RouteDoc[],
  title: string,
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters = [...parametersOf(r.params, 'path'), ...parametersOf(r.query, 'query')];
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      responses[status] = {
        description: res.description,
        ...(res.schema
          ? { content: { 'application/json': { schema: jsonSchema(res.schema, 'output') } } }
          : {}),
      };
    }
    responses.default ??= {
      description: 'error',
      content: { 'application/json': { schema: jsonSchema(errorBodySchema, 'output') } },
    };
    paths[r.path] ??= {};
    (paths[r.path] as Record<string, unknown>)[r.method] = {
      summary: r.summary,
      ...(r.tags ? { tags: r.tags } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return { openapi: '3.1.0', info: { title, version }, paths };
}

function parametersOf(schema: z.ZodObject | undefined, where: 'path' | 'query'): Record<string, unknown>[] {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    schema: s,
  }));
}

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  return rest;
}
