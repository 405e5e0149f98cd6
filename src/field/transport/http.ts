/** Episode upload over the hub's HTTP API: `PUT /api/episodes/:id/bundle` (src/hub/server/routes/ingest.ts). */
import { BUNDLE_MEDIA_TYPE, bundleSha256 } from '../transfer/index.ts';
import { type EpisodeTransport, type SendResult, TransportError } from './transport.ts';

export interface HttpTransportOptions {
  /** Hub base URL, e.g. http://hub:7800 */
  hubUrl: string;
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number;
}

export class HttpEpisodeTransport implements EpisodeTransport {
  private readonly base: string;
  private readonly timeoutMs: number;

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
    const text = await res.text().catch(() => '');
    let message = text;
    try {
      message = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? text;
    } catch {
      // not JSON: keep the text
    }
    const why = `hub refused episode ${id} (${res.status}): ${message}`;
    if (res.status === 404) throw new TransportError(why, false, true);
    // 4xx (other than timeouts and rate limits) will not change on a retry; 5xx may.
    const permanent = res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
    throw new TransportError(why, permanent);
  }

  async close(): Promise<void> {}

  private async fetch(pathname: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(`${this.base}${pathname}`, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw new TransportError(`hub ${this.base} unreachable: ${(err as Error).message}`, false, false, {
        cause: err,
      });
    }
  }
}
