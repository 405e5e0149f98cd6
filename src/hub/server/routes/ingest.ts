import type { FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import { TgError } from '../../../errors/index.ts';
import { BUNDLE_MEDIA_TYPE } from '../../../field/transfer/index.ts';
import type { EpisodeIngest, IngestResult } from '../../ingest/index.ts';

export interface IngestRoutesOptions {
  ingest: EpisodeIngest;
}

/** Body of a PUT /api/episodes/:id/bundle answer. */
export interface IngestResponse {
  status: IngestResult['status'];
  id: string;
  dataset: string;
  episodeIndex: number;
}

const paramsSchema = z.object({ id: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest') });

/**
 * PUT /api/episodes/:id/bundle: upload one episode bundle (body: the bundle, `Content-SHA256`: its sha256,
 * `Content-Length`: its size). 201 stored, 200 already stored (a re-send is not a duplicate), 400 when the
 * body does not match its checksum or its content, 404 for a robot no field registered, 413 oversized.
 * HEAD /api/episodes/:id/bundle: 200 when the hub has the episode, 404 when not (what to resume).
 */
export const ingestRoutes: FastifyPluginAsync<IngestRoutesOptions> = async (app, { ingest }) => {
  for (const type of [BUNDLE_MEDIA_TYPE, 'application/octet-stream']) {
    app.addContentTypeParser(
      type,
      { parseAs: 'buffer', bodyLimit: ingest.maxBundleBytes },
      (_req, body, done) => done(null, body),
    );
  }

  app.head('/api/episodes/:id/bundle', async (request, reply) => {
    const { id } = parseParams(request.params);
    const stored = ingest.has(id);
    if (!stored) return reply.status(404).send();
    return reply
      .header('x-tg-dataset', stored.dataset)
      .header('x-tg-episode-index', String(stored.episodeIndex))
      .header('x-tg-bundle-bytes', String(stored.bytes))
      .status(200)
      .send();
  });

  app.put('/api/episodes/:id/bundle', async (request, reply): Promise<IngestResponse> => {
    const { id } = parseParams(request.params);
    const sha256 = request.headers['content-sha256'];
    if (typeof sha256 !== 'string' || !/^[0-9a-fA-F]{64}$/.test(sha256)) {
      throw new TgError('INPUT_INVALID', 'Content-SHA256 header (hex sha256 of the body) is required');
    }
    if (request.headers['content-length'] === undefined) {
      throw new TgError('INPUT_INVALID', 'Content-Length is required');
    }
    const body = request.body;
    if (!(body instanceof Buffer)) {
      throw new TgError('INPUT_INVALID', `send the bundle as ${BUNDLE_MEDIA_TYPE}`);
    }
    const declared = Number(request.headers['content-length']);
    if (body.length !== declared) {
      throw new TgError('INPUT_INVALID', `body has ${body.length} bytes, Content-Length says ${declared}`);
    }
    const result = await ingest.ingest(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), {
      sha256,
      id,
    });
    reply.status(result.status === 'stored' ? 201 : 200);
    return {
      status: result.status,
      id: result.id,
      dataset: result.dataset,
      episodeIndex: result.episodeIndex,
    };
  });
};

function parseParams(params: unknown): { id: string } {
  const parsed = paramsSchema.safeParse(params);
  if (!parsed.success) throw new TgError('INPUT_INVALID', `episode id ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}
