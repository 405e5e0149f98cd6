/**
 * GET /api/docs: the OpenAPI 3.1 document of the hub's API, generated from the same zod schemas the routes
 * validate with (zod 4's `z.toJSONSchema`), so the document cannot drift from the validation.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
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
  /** Request headers the operation reads. */
  headers?: z.ZodObject;
  body?: z.ZodType;
  /** A body that is not JSON (an upload): its media types; `body` is then omitted. */
  rawBody?: { mediaTypes: string[]; description: string };
  /** Status -> description and (optionally) the body's schema, or the media type of a binary body. */
  responses: Record<number, { description: string; schema?: z.ZodType; binary?: string }>;
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

export const DOCS_ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/docs',
    summary: 'This OpenAPI 3.1 document',
    tags: ['docs'],
    responses: { 200: { description: 'the document', schema: z.looseObject({ openapi: z.string() }) } },
  },
];

export const docsRoutes: FastifyPluginAsync<DocsRoutesOptions> = async (app, opts) => {
  const doc = openApiDocument(
    [...opts.routes, ...DOCS_ROUTE_DOCS],
    opts.title ?? 'Training Ground hub API',
    opts.version ?? '0.1.0',
  );
  app.get('/api/docs', async () => doc);
};

/** A route as Fastify registered it, path in OpenAPI form. */
export interface RegisteredRoute {
  method: HttpMethod;
  path: string;
}

const registered = new WeakMap<FastifyInstance, RegisteredRoute[]>();

/**
 * Records every route registered on `app` from now on (call before registering plugins), so a test can
 * check that the document covers each one.
 */
export function trackRoutes(app: FastifyInstance): void {
  const routes: RegisteredRoute[] = [];
  registered.set(app, routes);
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    for (const m of methods) {
      const method = m.toLowerCase() as HttpMethod;
      // Fastify adds a HEAD twin right after each GET route; only a HEAD of its own is an operation.
      if (method === 'head' && routes.some((r) => r.method === 'get' && r.path === path)) continue;
      routes.push({ method, path });
    }
  });
}

/** The routes recorded by `trackRoutes` (empty when `app` was not tracked). */
export function registeredRoutes(app: FastifyInstance): RegisteredRoute[] {
  return [...(registered.get(app) ?? [])];
}

export function openApiDocument(
  routes: readonly RouteDoc[],
  title: string,
  version: string,
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters = [
      ...parametersOf(r.params, 'path'),
      ...parametersOf(r.query, 'query'),
      ...parametersOf(r.headers, 'header'),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, res] of Object.entries(r.responses)) {
      responses[status] = {
        description: res.description,
        ...(res.schema
          ? { content: { 'application/json': { schema: jsonSchema(res.schema, 'output') } } }
          : {}),
        ...(res.binary ? { content: { [res.binary]: { schema: BINARY } } } : {}),
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
      ...(r.rawBody
        ? {
            requestBody: {
              required: true,
              description: r.rawBody.description,
              content: Object.fromEntries(r.rawBody.mediaTypes.map((t) => [t, { schema: BINARY }])),
            },
          }
        : {}),
      responses,
    };
  }
  return { openapi: '3.1.0', info: { title, version }, paths };
}

const BINARY = { type: 'string', format: 'binary' };

function parametersOf(
  schema: z.ZodObject | undefined,
  where: 'path' | 'query' | 'header',
): Record<string, unknown>[] {
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
