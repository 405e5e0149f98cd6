/**
 * Checking one upload before the hub keeps it: size, the sender's transfer checksum, the bundle's
 * structure and content id (src/field/transfer/bundle.ts), and the episode id the sender addressed; then
 * the episode's quality verdict (./quality.ts), which the catalog stores with it. Pure,
 * so it runs the same on the hub's main thread and in its verification threads (./bundle-workers.ts).
 */
import { createHash } from 'node:crypto';
import { TgError } from '../../errors/index.ts';
import { verifyBundle } from '../../field/transfer/index.ts';
import type { EpisodeInput } from '../catalog/index.ts';
import { bundleQuality } from './quality.ts';

/** One upload: the bundle and what the sender claims about it (both checked when given). */
export interface BundleUpload {
  bundle: Uint8Array;
  /** The sender's sha256 of `bundle` (the transfer checksum). */
  sha256?: string | undefined;
  /** The episode id the sender addressed. */
  id?: string | undefined;
}

/** What the hub needs of a verified bundle to place and register it (the bytes stay where they are). */
export interface VerifiedUpload {
  id: string;
  /** sha256 of the bundle: its name in the blob store. */
  sha256: string;
  bytes: number;
  robot: string;
  field: string;
  embodimentHash: string;
  fps: number;
  /** The catalog row, but for its episode index (given when it is committed). */
  episode: Omit<EpisodeInput, 'episodeIndex'>;
}

/** Throws `TgError('INPUT_INVALID')` saying what is wrong; nothing is written either way. */
export function verifyUpload(upload: BundleUpload, maxBundleBytes: number): VerifiedUpload {
  const { bundle } = upload;
  if (bundle.byteLength > maxBundleBytes) {
    throw new TgError('INPUT_INVALID', `bundle of ${bundle.byteLength} bytes exceeds ${maxBundleBytes}`);
  }
  const sha256 = createHash('sha256').update(bundle).digest('hex');
  if (upload.sha256 !== undefined && upload.sha256.toLowerCase() !== sha256) {
    throw new TgError(
      'INPUT_INVALID',
      `checksum mismatch: sender says sha256 ${upload.sha256}, body has ${sha256}`,
    );
  }
  const verified = verifyBundle(bundle); // re-computes the content id: throws on any lie
  const { header } = verified;
  const { meta } = header;
  if (upload.id !== undefined && upload.id !== meta.id) {
    throw new TgError('INPUT_INVALID', `bundle holds episode ${meta.id}, not ${upload.id}`);
  }
  // A bad verdict is data, not a refusal: the episode is kept, and counts against the data yield.
  const quality = bundleQuality(bundle, verified);
  return {
    id: meta.id,
    sha256,
    bytes: bundle.byteLength,
    robot: meta.robot,
    field: meta.field,
    embodimentHash: meta.embodimentHash,
    fps: meta.fps,
    episode: {
      id: meta.id,
      robotId: meta.robot,
      task: meta.task,
      instruction: meta.instruction,
      source: meta.source,
      phase: meta.phase,
      success: meta.success === true,
      seed: meta.seed,
      length: meta.length,
      durationSec: meta.length / meta.fps,
      recordedAt: header.recordedAt ?? new Date().toISOString(),
      blobSha256: sha256,
      blobBytes: bundle.byteLength,
      ...(quality ? { qualityVerdict: quality.verdict, qualityFailed: quality.failed } : {}),
    },
  };
}
