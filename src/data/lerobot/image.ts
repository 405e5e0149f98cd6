/**
 * Depth images as LeRobot `image` features.
 *
 * LeRobot stores an image feature in the data parquet as a struct {bytes: binary, path: string} holding one
 * encoded image per frame (HF `datasets.Image`), declared in info.json with dtype "image", shape
 * [height, width, channels] and names ["height", "width", "channels"]. Depth maps are flagged in the
 * feature's info (`is_depth_map`, `depth_unit`: integer depth is millimetres, lerobot/configs/video.py
 * infer_depth_unit) and their stats stay in stored units (compute_stats.py compute_episode_stats skips the
 * /255 for depth), per channel with shape [c, 1, 1]. Here a depth frame is a 16-bit grayscale PNG.
 */
import { PNG } from 'pngjs';
import { TgError } from '../../errors/index.ts';
import type { FeatureStats, ImageFeatureSpec } from './format.ts';
import { computeFeatureStats } from './stats.ts';

export const DEPTH_UNIT_MM = 'mm';

/** info.json entry of a depth image feature (millimetres, one channel). */
export function depthFeatureSpec(height: number, width: number): ImageFeatureSpec {
  if (!(Number.isInteger(height) && height > 0 && Number.isInteger(width) && width > 0))
    throw new TgError('INPUT_INVALID', `depth image: bad size ${width}x${height}`);
  return {
    dtype: 'image',
    shape: [height, width, 1],
    names: ['height', 'width', 'channels'],
    info: { is_depth_map: true, depth_unit: DEPTH_UNIT_MM },
  };
}

export { HF_IMAGE_FEATURE } from './format.ts';

/** One depth frame (row-major, millimetres) as a 16-bit grayscale PNG. */
export function encodeDepthPng(depthMm: Uint16Array, width: number, height: number): Buffer {
  if (depthMm.length !== width * height)
    throw new TgError('INPUT_INVALID', `depth image: ${depthMm.length} pixels, expected ${width}x${height}`);
  const png = new PNG({ width, height, bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  // pngjs takes 16-bit input as one number per sample (its packer reads a Uint16Array-like data)
  png.data = depthMm as unknown as Buffer;
  return PNG.sync.write(png, { bitDepth: 16, colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

/** A 16-bit grayscale PNG back to depth in millimetres; `where` names the frame in errors. */
export function decodeDepthPng(
  bytes: Uint8Array,
  where: string,
): { width: number; height: number; depthMm: Uint16Array } {
  let png: PNG;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (cause) {
    throw new TgError('INPUT_INVALID', `${where}: not a PNG image (${(cause as Error).message})`, { cause });
  }
  const { width, height } = png;
  // With skipRescale pngjs keeps 16-bit samples in a Uint16Array, RGBA-expanded: keep the first channel.
  const samples = png.data as unknown as ArrayLike<number>;
  const depthMm = new Uint16Array(width * height);
  for (let i = 0; i < depthMm.length; i++) depthMm[i] = samples[4 * i] as number;
  return { width, height, depthMm };
}

/**
 * Stats of an episode's depth frames (`length` frames of `pixels` each, frame-major) in millimetres, per
 * channel with shape [1, 1, 1] as LeRobot keeps image stats; count is the number of frames.
 */
export function depthImageStats(depthMm: Uint16Array, length: number): Record<keyof FeatureStats, unknown> {
  return nestImageStats(flatDepthStats(depthMm, length));
}

/**
 * Stats of an episode's depth frames kept flat (one channel) so they aggregate like any feature's; count is
 * the number of frames (every frame has the same pixel count, so frame weights equal pixel weights).
 */
export function flatDepthStats(depthMm: Uint16Array, length: number): FeatureStats {
  const flat = computeFeatureStats(depthMm, depthMm.length, 1);
  flat.count = [length];
  return flat;
}

/** Flat per-channel image stats nested as LeRobot keeps them: each channel's value as [[v]]. */
export function nestImageStats(flat: FeatureStats): Record<keyof FeatureStats, unknown> {
  const out = {} as Record<keyof FeatureStats, unknown>;
  for (const [k, v] of Object.entries(flat) as [keyof FeatureStats, number[]][])
    out[k] = k === 'count' ? [...v] : v.map((c) => [[c]]);
  return out;
}
