import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { TgError } from '../../../errors/index.ts';
import { BATCH_MEDIA_TYPE, BUNDLE_MEDIA_TYPE, decodeBatch } from '../../../field/transfer/index.ts';
import type { EpisodeIngest, IngestResult } from '../../ingest/index.ts';
import type { RouteDoc } from './docs.ts';

export interface IngestRoutesOptions {
  ingest: EpisodeIngest;
  /** Largest batch body accepted (default 64 MiB, or the largest bundle when that is more). */
  maxBatchBytes?: number;
}

/** Body of a PUT /api/episodes/:id/bundle answer, and of each result of a batch. */
export interface IngestResponse {
  status: IngestResult['status'];
  id: string;
  dataset: string;
  episodeIndex: number;
}

/** Body of a POST /api/episodes/bundles answer: one result per entry, in the batch's order. */
export interface BatchIngestResponse {
  results: IngestResponse[];
}

const DEFAULT_MAX_BATCH_BYTES = 64 * 1024 * 1024;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const paramsSchema = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest') });

const ingestResponseSchema = z.object({
  status: z.enum(['stored', 'already stored']),
  id: z.string(),
  dataset: z.string(),
  episodeIndex: z.number().int(),
});
const uploadHeadersSchema = z.object({
  'content-sha256': z.string().regex(SHA256_HEX).describe('hex sha256 of the body (the transfer checksum)'),
  'content-length': z.string().describe('size of the body in bytes; a body of another size is refused'),
});

export const INGEST_ROUTE_DOCS: RouteDoc[] = [
  {
    method: 'head',
    path: '/api/episodes/{id}/bundle',
    summary: 'Whether the hub has an episode (what a field may skip re-sending)',
    tags: ['ingest'],
    params: paramsSchema,
    responses: {
      200: { description: 'the hub has it (headers x-tg-dataset, x-tg-episode-index, x-tg-bundle-sha256)' },
      404: { description: 'the hub does not have it' },
    },
  },
  {
    method: 'get',
    path: '/api/episodes/{id}/bundle',
    summary: 'The stored bundle of an episode',
    tags: ['ingest'],
    params: paramsSchema,
    responses: {
      200: { description: 'the bundle (src/field/transfer/bundle.ts)', binary: BUNDLE_MEDIA_TYPE },
      404: { description: 'no such episode, or it is not stored as a bundle' },
    },
  },
  {
    method: 'put',
    path: '/api/episodes/{id}/bundle',
    summary: 'Upload one episode bundle (idempotent: the id is the content hash)',
    tags: ['ingest'],
    params: paramsSchema,
    headers: uploadHeadersSchema,
    rawBody: {
      mediaTypes: [BUNDLE_MEDIA_TYPE, 'application/octet-stream'],
      description: 'the bundle (src/field/transfer/bundle.ts)',
    },
    responses: {
      201: { description: 'stored', schema: ingestResponseSchema },
      200: { description: 'already stored (a re-send)', schema: ingestResponseSchema },
      400: { description: 'checksum, length or content do not match' },
      404: { description: 'a robot no field registered' },
      413: { description: 'larger than the hub accepts' },
    },
  },
  {
    method: 'post',
    path: '/api/episodes/bundles',
    summary: 'Upload a batch of bundles, stored in order, all or nothing',
    tags: ['ingest'],
    headers: uploadHeadersSchema.pick({ 'content-length': true }),
    rawBody: { mediaTypes: [BATCH_MEDIA_TYPE], description: 'the batch (src/field/transfer/batch.ts)' },
    responses: {
      200: {
        description: 'one result per entry, in the batch order',
        schema: z.object({ results: z.array(ingestResponseSchema) }),
      },
      400: { description: 'a bad entry (named) or bad framing; nothing of the batch is stored' },
      404: { description: 'an entry of a robot no field registered; nothing of the batch is stored' },
      413: { description: 'larger than the hub accepts' },
    },
  },
];

/**
 * PUT /api/episodes/:id/bundle: upload one episode bundle (body: the bundle, `Content-SHA256`: its sha256,
 * `Content-Length`: its size). 201 stored, 200 already stored (a re-send is not a duplicate), 400 when the
 * body does not match its checksum or its content, 404 for a robot no field registered, 413 oversized.
 * POST /api/episodes/bundles: a batch of bundles (src/field/transfer/batch.ts), stored in order, all or
 * nothing: 200 with one result per entry, or the error of the first bad entry and nothing stored.
 * HEAD /api/episodes/:id/bundle: 200 when the hub has the episode, 404 when not (what to resume).
 * GET /api/episodes/:id/bundle: the stored bundle itself.
 */
export const ingestRoutes: FastifyPluginAsync<IngestRoutesOptions> = async (app, opts) => {
  const { ingest } = opts;
  const maxBatchBytes = opts.maxBatchBytes ?? Math.max(DEFAULT_MAX_BATCH_BYTES, ingest.maxBundleBytes);
  for (const type of [BUNDLE_MEDIA_TYPE, 'application/octet-stream']) {
    app.addContentTypeParser(
      type,
      { parseAs: 'buffer', bodyLimit: ingest.maxBundleBytes },
      (_req, body, done) => done(null, body),
    );
  }
  app.addContentTypeParser(
    BATCH_MEDIA_TYPE,
    { parseAs: 'buffer', bodyLimit: maxBatchBytes },
    (_req, body, done) => done(null, body),
  );

  app.head('/api/episodes/:id/bundle', async (request, reply) => {
    const { id } = parseParams(request.params);
    const stored = await ingest.lookup(id);
    // An answer without Content-Length makes Node's HTTP client close its keep-alive connection (it cannot
    // tell where the answer ends), so every resume check would cost a new connection: say how long the
    // GET's body is, or 0.
    if (!stored) return reply.status(404).header('content-length', '0').send();
    reply.header('x-tg-dataset', stored.dataset).header('x-tg-episode-index', String(stored.episodeIndex));
    if (stored.sha256 !== null) {
      reply.header('x-tg-bundle-sha256', stored.sha256).header('x-tg-bundle-bytes', String(stored.bytes));
    }
    return reply
      .status(200)
      .header('content-length', String(stored.sha256 !== null ? stored.bytes : 0))
      .send();
  });

  app.get('/api/episodes/:id/bundle', async (request, reply) => {
    const { id } = parseParams(request.params);
    const stored = await ingest.lookup(id);
    if (!stored) throw new TgError('NOT_FOUND', `the hub has no episode ${id}`);
    if (stored.sha256 === null) {
      throw new TgError('NOT_FOUND', `episode ${id} is in dataset ${stored.dataset}, not stored as a bundle`);
    }
    return reply
      .header('content-type', BUNDLE_MEDIA_TYPE)
      .header('content-sha256', stored.sha256)
      .header('content-length', String(stored.bytes))
      .send(await ingest.blobs.get(stored.sha256));
  });

  app.put('/api/episodes/:id/bundle', async (request, reply): Promise<IngestResponse> => {
    const { id } = parseParams(request.params);
    const sha256 = request.headers['content-sha256'];
    if (typeof sha256 !== 'string' || !SHA256_HEX.test(sha256)) {
      throw new TgError('INPUT_INVALID', 'Content-SHA256 header (hex sha256 of the body) is required');
    }
    const body = bodyOf(request.body, request.headers['content-length'], BUNDLE_MEDIA_TYPE);
    const result = await ingest.ingest(body, { sha256, id }, { handOver: ownsMemory(body) });
    reply.status(result.status === 'stored' ? 201 : 200);
    return response(result);
  });

  app.post('/api/episodes/bundles', async (request): Promise<BatchIngestResponse> => {
    const body = bodyOf(request.body, request.headers['content-length'], BATCH_MEDIA_TYPE);
    const entries = decodeBatch(body, { maxBundleBytes: ingest.maxBundleBytes });
    const results = await ingest.ingestBatch(entries, { handOver: ownsMemory(body) });
    return { results: results.map(response) };
  });
};

function response(r: IngestResult): IngestResponse {
  return { status: r.status, id: r.id, dataset: r.dataset, episodeIndex: r.episodeIndex };
}

/** The raw body, checked against Content-Length (a truncated upload is refused, not ingested). */
function bodyOf(body: unknown, contentLength: string | undefined, mediaType: string): Uint8Array {
  if (contentLength === undefined) throw new TgError('INPUT_INVALID', 'Content-Length is required');
  if (!(body instanceof Buffer)) throw new TgError('INPUT_INVALID', `send the body as ${mediaType}`);
  const declared = Number(contentLength);
  if (body.length !== declared) {
    throw new TgError('INPUT_INVALID', `body has ${body.length} bytes, Content-Length says ${declared}`);
  }
  return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
}

/**
 * Whether the body is the only view of its memory (Fastify concatenates a multi-chunk body into a buffer of
 * its own; a small or single-chunk body may share a pooled one), so the ingest may move it, not copy it.
 */
function ownsMemory(body: Uint8Array): boolean {
  return body.byteOffset === 0 && body.buffer.byteLength === body.byteLength;
}

function parseParams(params: unknown): { id: string } {
  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) throw new TgError('INPUT_INVALID', `episode id ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
