/** How a field hands an episode bundle to the hub: HTTP upload (default) or NATS JetStream (at scale). */
export type SendResult = 'stored' | 'duplicate';

/** A bundle on its way out, under the episode id it holds. */
export interface OutgoingEpisode {
  id: string;
  bundle: Uint8Array;
}

export interface EpisodeTransport {
  /**
   * Delivers one bundle. Resolves once the hub side holds it durably ('duplicate' when it already had it:
   * the id is a content hash, so a re-send after a lost acknowledgement is no second copy). Rejects with a
   * `TransportError`.
   */
  send(id: string, bundle: Uint8Array): Promise<SendResult>;
  /**
   * Optional: delivers several bundles, in order, with one result each. A permanent `TransportError` says
   * the hub refused the batch (one bundle in it is bad, or the batch is too large): send them one at a
   * time to learn which. Other errors are retried like `send`'s.
   */
  sendBatch?(episodes: readonly OutgoingEpisode[]): Promise<SendResult[]>;
  close(): Promise<void>;
}

/**
 * A failed send. `permanent`: the hub refused this bundle for good (it is malformed or lies), retrying is
 * pointless; otherwise the hub was unreachable or busy and the field retries with backoff.
 * `unknownRobot`: the hub does not know the robot yet; register and retry.
 * `hubDown`: nothing listens at the hub's address (connection refused): the hub is down or restarting, and
 * a retry costs it nothing, so the field need not back off far to spare it.
 */
export class TransportError extends Error {
  readonly hubDown: boolean;

  constructor(
    message: string,
    readonly permanent: boolean,
    readonly unknownRobot = false,
    options?: { cause?: unknown; hubDown?: boolean },
  ) {
    super(message, options);
    this.name = 'TransportError';
    this.hubDown = options?.hubDown ?? false;
  }
}

/**
 * Whether a failed request found nothing listening at the hub's address (connection refused): the hub is
 * down or restarting. Such a retry costs the hub nothing, so callers retry it within a short, capped step.
 */
export function hubDown(err: unknown): boolean {
  if (err instanceof TransportError) return err.hubDown;
  return ((err as Error | undefined)?.cause as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';
}

/** Longest retry step while `hubDown` (uploads, job acknowledgements, registration). */
export const HUB_DOWN_MAX_MS = 2000;
