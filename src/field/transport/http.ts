/**
 * Episode upload over the hub's HTTP API (src/hub/server/routes/ingest.ts): `PUT /api/episodes/:id/bundle`
 * for one bundle, `POST /api/episodes/bundles` for a batch of them (src/field/transfer/batch.ts).
 */
import { BATCH_MEDIA_TYPE, BUNDLE_MEDIA_TYPE, bundleSha256, encodeBatch } from '../transfer/index.ts';
import { type EpisodeTransport, type OutgoingEpisode, type SendResult, TransportError } from './transport.ts';

export interface HttpTransportOptions {
  /** Hub base URL, e.g. http://hub:7800 */
  hubUrl: string;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
}

interface IngestAnswer {
  status: 'stored' | 'already stored';
}

export class HttpEpisodeTransport implements EpisodeTransport {
  private readonly base: string;
  private readonly timeoutMs: number;
  /** Set when the hub has no batch route (an older hub): every later batch goes one bundle at a time. */
  private batchUnsupported = false;

  constructor(opts: HttpTransportOptions) {
    this.base = opts.hubUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  /** Whether the hub already has the episode (HEAD): lets a retry skip re-uploading it. */
  async has(id: string): Promise<boolean> {
    const res = await this.fetch(`/api/episodes/${id}/bundle`, { method: 'HEAD' });
    if (res.status === 200) return true;
    if (res.status === 404) return false;
    throw new TransportError(`HEAD ${id}: hub answered ${res.status}`, false);
  }

  async send(id: string, bundle: Uint8Array): Promise<SendResult> {
    const res = await this.fetch(`/api/episodes/${id}/bundle`, {
      method: 'PUT',
      headers: {
        'content-type': BUNDLE_MEDIA_TYPE,
        'content-sha256': bundleSha256(bundle),
        'content-length': String(bundle.byteLength),
      },
      body: bundle as Uint8Array<ArrayBuffer>,
    });
    if (res.status === 201) return 'stored';
    if (res.status === 200) return 'duplicate';
    throw await refusal(`episode ${id}`, res);
  }

  async sendBatch(episodes: readonly OutgoingEpisode[]): Promise<SendResult[]> {
    const what = `batch of ${episodes.length} episodes from ${episodes[0]?.id ?? 'none'}`;
    if (this.batchUnsupported) throw new TransportError(`${what}: the hub takes no batches`, true);
    const body = encodeBatch(episodes.map((e) => ({ ...e, sha256: bundleSha256(e.bundle) })));
    const res = await this.fetch('/api/episodes/bundles', {
      method: 'POST',
      headers: { 'content-type': BATCH_MEDIA_TYPE, 'content-length': String(body.byteLength) },
      body: body as Uint8Array<ArrayBuffer>,
    });
    if (res.status === 200) {
      const { results } = (await res.json()) as { results: IngestAnswer[] };
      if (results.length !== episodes.length) {
        throw new TransportError(`${what}: hub answered ${results.length} results`, false);
      }
      return results.map((r) => (r.status === 'stored' ? 'stored' : 'duplicate'));
    }
    const err = await refusal(what, res);
    if (res.status === 404 && /no such route/.test(err.message)) {
      this.batchUnsupported = true;
      throw new TransportError(err.message, true);
    }
    throw err;
  }

  async close(): Promise<void> {}

  private async fetch(pathname: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.base}${pathname}`, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const code = ((err as Error).cause as NodeJS.ErrnoException | undefined)?.code;
      const why = code ? `${(err as Error).message} (${code})` : (err as Error).message;
      throw new TransportError(`hub ${this.base} unreachable: ${why}`, false, false, {
        cause: err,
        hubDown: code === 'ECONNREFUSED',
      });
    }
  }
}

/** The hub's refusal as a TransportError: 404 unknown robot, other 4xx permanent, 5xx and 408/429 retried. */
async function refusal(what: string, res: Response): Promise<TransportError> {
  const text = await res.text().catch(() => '');
  let message = text;
  try {
    message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
  } catch {
    // not JSON: keep the text
  }
  const why = `hub refused ${what} (${res.status}): ${message}`;
  if (res.status === 404) return new TransportError(why, false, true);
  // 4xx (other than timeouts and rate limits) will not change on a retry; 5xx may.
  const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
  return new TransportError(why, permanent);
}
