/**
 * The episode: one recorded attempt at a task by one robot, metadata plus columnar frames.
 *
 * The id is a content hash (sha256, hex) over the metadata (without the id) and every frame column, so
 * the same recording always gets the same id wherever it is stored, and any change to it changes the id.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const EPISODE_SOURCES = ['teleop', 'mocap', 'policy', 'scripted'] as const;
export const CURRICULUM_PHASES = ['orientation', 'drill', 'autonomy'] as const;

export const EpisodeEventSchema = z.object({
  /** Frame the event happened at (0-based, within the episode). */
  frame: z.number().int().nonnegative(),
  /** What happened: 'grasp', 'drop', 'estop', 'deadline-miss', ... */
  kind: z.string().min(1),
  detail: z.string().optional(),
});
export type EpisodeEvent = z.infer<typeof EpisodeEventSchema>;

export const EpisodeMetaSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 hex digest'),
  robot: z.string().min(1),
  embodimentHash: z.string().min(1),
  vendor: z.string(),
  field: z.string(),
  operator: z.string(),
  /** Task id (e.g. 'pick-place'). */
  task: z.string().min(1),
  /** Natural-language instruction; this is what LeRobot calls the episode's "task". */
  instruction: z.string(),
  source: z.enum(EPISODE_SOURCES),
  phase: z.enum(CURRICULUM_PHASES),
  /** null = not labelled. */
  success: z.boolean().nullable(),
  seed: z.number().int(),
  fps: z.number().int().positive(),
  length: z.number().int().nonnegative(),
  events: z.array(EpisodeEventSchema),
});
export type EpisodeMeta = z.infer<typeof EpisodeMetaSchema>;

/** What the caller of `Recorder.finish` supplies: everything the recorder cannot know itself. */
export type EpisodeLabels = Omit<EpisodeMeta, 'id' | 'fps' | 'length'>;

/** A finished episode, columnar: `columns[name]` holds `length * dim` floats, frame-major. */
export interface RecordedEpisode {
  meta: EpisodeMeta;
  length: number;
  /** Per-frame capture time in seconds, as given to `Recorder.record` (length `length`). */
  timestampsSec: Float64Array;
  columns: Record<string, Float32Array>;
}

/** JSON with object keys sorted at every level, so the hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * sha256 over canonical metadata (without `id`), then each column's name and raw bytes in name order. Any
 * view of the bytes works (Float32Array columns, or Uint8Array slices of a transfer bundle, uncopied).
 */
export function computeEpisodeId(
  meta: Omit<EpisodeMeta, 'id'>,
  columns: Record<string, ArrayBufferView>,
  timestampsSec: ArrayBufferView,
): string {
  const hash = createHash('sha256');
  hash.update(canonicalJson(meta));
  hash.update('\0timestamps\0');
  hash.update(new Uint8Array(timestampsSec.buffer, timestampsSec.byteOffset, timestampsSec.byteLength));
  for (const name of Object.keys(columns).sort()) {
    const col = columns[name] as ArrayBufferView;
    hash.update(`\0${name}\0`);
    hash.update(new Uint8Array(col.buffer, col.byteOffset, col.byteLength));
  }
  return hash.digest('hex');
}
