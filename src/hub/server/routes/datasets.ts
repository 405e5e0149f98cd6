/**
 * Datasets over HTTP: saved episode queries (src/hub/datasets) and their frozen versions.
 *
 *   GET  /api/datasets                         every dataset with its number of versions
 *   POST /api/datasets                         { name, query } -> 201 the new dataset
 *   POST /api/datasets/:name/freeze            { valFraction? } -> 201 the new version (without manifest)
 *   GET  /api/datasets/:name/versions/:version the version with its manifest
 */
import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { TgError } from '../../../errors/index.ts';
import { type Catalog, datasetNameSchema, episodeFilterSchema } from '../../catalog/index.ts';
import { CURRICULUM_PHASES } from '../../catalog/types.ts';
import { Datasets } from '../../datasets/index.ts';
import type { RouteDoc } from './docs.ts';

export interface DatasetsRoutesOptions {
  catalog: Catalog;
}

export const createDatasetBodySchema = z
  .object({ name: datasetNameSchema, query: episodeFilterSchema.optional() })
  .strict();
export const freezeBodySchema = z.object({ valFraction: z.number().min(0).max(1).optional() }).strict();
const nameParamsSchema = z.object({ name: z.string() });
const versionParamsSchema = z.object({
  name: z.string(),
  version: z
    .string()
    .regex(/^[1-9]\d{0,8}$/, 'version must be a positive whole number')
    .transform(Number),
});

const filterOutputSchema = z.object({
  robot: z.array(z.string()).optional(),
  vendor: z.array(z.string()).optional(),
  task: z.array(z.string()).optional(),
  phase: z.array(z.enum(CURRICULUM_PHASES)).optional(),
  field: z.array(z.string()).optional(),
  success: z.boolean().optional(),
  recordedFrom: z.string().optional(),
  recordedTo: z.string().optional(),
});
const datasetSchema = z.object({
  name: z.string(),
  query: filterOutputSchema,
  createdAt: z.string(),
  versions: z.number().int(),
});
const versionSummarySchema = z.object({
  name: z.string(),
  version: z.number().int(),
  manifestSha256: z.string(),
  episodeCount: z.number().int(),
  frameCount: z.number().int(),
  createdAt: z.string(),
});
const versionSchema = versionSummarySchema.extend({
  manifest: z.looseObject({
    format: z.string(),
    contentSha256: z.string(),
    counts: z.looseObject({}),
    splits: z.object({ train: z.array(z.string()), val: z.array(z.string()) }),
    episodes: z.array(z.looseObject({ id: z.string(), dataset: z.string(), episodeIndex: z.number() })),
  }),
});

export const DATASETS_ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'get',
    path: '/api/datasets',
    summary: 'List datasets (saved episode queries)',
    tags: ['datasets'],
    responses: {
      200: { description: 'datasets by name', schema: z.object({ datasets: z.array(datasetSchema) }) },
    },
  },
  {
    method: 'post',
    path: '/api/datasets',
    summary: 'Create a dataset from an episode query',
    tags: ['datasets'],
    body: createDatasetBodySchema,
    responses: {
      201: { description: 'created', schema: z.object({ dataset: datasetSchema }) },
      400: { description: 'bad name, bad query, malformed JSON or name taken' },
    },
  },
  {
    method: 'post',
    path: '/api/datasets/{name}/freeze',
    summary: 'Freeze the episodes the query matches now as the next immutable version',
    tags: ['datasets'],
    params: nameParamsSchema,
    body: freezeBodySchema,
    responses: {
      201: { description: 'the new version', schema: z.object({ version: versionSummarySchema }) },
      404: { description: 'no such dataset' },
    },
  },
  {
    method: 'get',
    path: '/api/datasets/{name}/versions/{version}',
    summary: 'A frozen version with its manifest',
    tags: ['datasets'],
    params: versionParamsSchema,
    responses: {
      200: { description: 'the version', schema: z.object({ version: versionSchema }) },
      404: { description: 'no such dataset or version' },
    },
  },
];

export const datasetsRoutes: FastifyPluginAsync<DatasetsRoutesOptions> = async (app, { catalog }) => {
  const datasets = new Datasets(catalog);

  app.get('/api/datasets', async () => ({ datasets: await datasets.list() }));

  app.post('/api/datasets', async (request, reply) => {
    const body = parseInput(createDatasetBodySchema, request.body, 'request body');
    const dataset = await datasets.create(body.name, body.query ?? {});
    return reply.status(201).send({ dataset });
  });

  app.post('/api/datasets/:name/freeze', async (request, reply) => {
    const { name } = request.params as { name: string };
    const body = parseInput(freezeBodySchema, request.body ?? {}, 'request body');
    const { manifest: _manifest, ...version } = await datasets.freeze(
      name,
      body.valFraction === undefined ? {} : { valFraction: body.valFraction },
    );
    return reply.status(201).send({ version });
  });

  app.get('/api/datasets/:name/versions/:version', async (request) => {
    const p = parseInput(versionParamsSchema, request.params, 'path');
    return { version: await datasets.version(p.name, p.version) };
  });
};

/** Validates a JSON body or path parameters; a failure is a 400 naming each bad field and why. */
function parseInput<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const reasons = result.error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys')
      return `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    return `"${issue.path.join('.') || what}": ${issue.message.replace(/^Invalid input: /, '')}`;
  });
  throw new TgError('INPUT_INVALID', `bad ${what}: ${reasons.join('; ')}`);
}
