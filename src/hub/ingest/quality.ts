/**
 * The quality verdict of one uploaded episode, computed where its bundle is verified (./verify.ts, in the
 * hub's verification threads): the data module's per-episode checks (src/data/quality `checkEpisode`) with
 * the default thresholds over the bundle's columns, read in place. The catalog stores the verdict and the
 * names of the checks that failed, and analytics derive data yield from them (DESIGN.md "Quality").
 *
 * The dataset-level duration-outlier check (Tukey fences over a dataset's episode durations) does not run
 * here: one episode has no distribution to be an outlier of, and the hub's blob store is not a dataset whose
 * membership is fixed when an episode arrives.
 *
 * Joint limits come from the embodiment the episode ran on, found by the bundle's embodiment hash among the
 * known embodiments (like `tg up` checks its datasets with arm7's limits); when the hash is unknown, or the
 * state does not have one channel per limit, the limit checks do not run (as for a dataset checked without
 * limits).
 */
import {
  type CheckResult,
  checkEpisode,
  DEFAULT_THRESHOLDS,
  episodeVerdict,
  type JointLimits,
  type Verdict,
} from '../../data/quality/index.ts';
import { EMBODIMENT_NAMES, embodimentHash, loadEmbodiment } from '../../embodiment/index.ts';
import type { VerifiedBundle } from '../../field/transfer/index.ts';

export interface EpisodeQuality {
  verdict: Verdict;
  /** Names of the checks that failed (empty unless the verdict is 'fail'). */
  failed: string[];
}

let limitsByHash: Map<string, JointLimits> | undefined;

/** Joint limits of the known embodiments by embodiment hash (computed once per thread). */
function knownLimits(): Map<string, JointLimits> {
  if (!limitsByHash) {
    limitsByHash = new Map();
    for (const name of EMBODIMENT_NAMES) {
      try {
        const e = loadEmbodiment(name);
        limitsByHash.set(embodimentHash(e), e.jointLimits);
      } catch {
        // An embodiment whose model cannot be read: its episodes are checked without limits.
      }
    }
  }
  return limitsByHash;
}

/** A Float32/Float64 view of `bytes[offset, offset + bytes)`, copied only when not aligned for the type. */
function floats<T extends Float32Array | Float64Array>(
  Type: { new (b: ArrayBuffer, o: number, n: number): T; new (n: number): T; BYTES_PER_ELEMENT: number },
  bundle: Uint8Array,
  offset: number,
  bytes: number,
): T {
  const at = bundle.byteOffset + offset;
  const n = bytes / Type.BYTES_PER_ELEMENT;
  if (at % Type.BYTES_PER_ELEMENT === 0 && bundle.buffer instanceof ArrayBuffer) {
    return new Type(bundle.buffer, at, n);
  }
  const copy = new Type(n);
  new Uint8Array(copy.buffer).set(bundle.subarray(offset, offset + bytes));
  return copy;
}

/**
 * Checks a verified bundle's episode (the checks read the bundle's bytes; nothing is kept). Null when the
 * checks cannot run on it (a check that throws): the episode is then stored unchecked rather than refused,
 * since its bundle is valid, and analytics leave it out of the yield.
 */
export function bundleQuality(bundle: Uint8Array, verified: VerifiedBundle): EpisodeQuality | null {
  try {
    return runChecks(bundle, verified);
  } catch {
    return null;
  }
}

function runChecks(bundle: Uint8Array, verified: VerifiedBundle): EpisodeQuality {
  const { header } = verified;
  const { meta, length } = header;
  const columns: Record<string, Float32Array> = {};
  const names: Record<string, readonly string[] | undefined> = {};
  for (const c of verified.columns) columns[c.name] = floats(Float32Array, bundle, c.offset, c.bytes);
  for (const f of header.features) names[f.name] = f.names;
  const limits = knownLimits().get(meta.embodimentHash);
  const stateDim = header.features.find((f) => f.name === 'observation.state')?.dim;
  const results: CheckResult[] = checkEpisode(
    {
      fps: meta.fps,
      length,
      timestampsSec: floats(Float64Array, bundle, verified.timestamps.offset, verified.timestamps.bytes),
      columns,
      names,
      jointLimits: limits && limits.lower.length === stateDim ? limits : undefined,
      instruction: meta.instruction,
      success: meta.success ?? null,
    },
    DEFAULT_THRESHOLDS,
  );
  const verdict = episodeVerdict(results);
  return { verdict, failed: results.filter((r) => r.verdict === 'fail').map((r) => r.check) };
}
