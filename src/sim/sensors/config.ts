/**
 * Sensor pipeline settings, validated with zod at the boundary. Every channel (`joint_pos`, `imu`,
 * `tactile.pad_left`, `wrench.wrist_ft`, `depth.head_camera`, ...) takes the same knobs; a bad value is a
 * TgError('INPUT_INVALID') that names the channel and the setting.
 */
import { z } from 'zod';
import { TgError } from '../../errors/index.ts';

export const channelSettingsSchema = z
  .object({
    /** Sampling rate (Hz); undefined = every pipeline update. */
    rateHz: z.number().positive().max(10_000).optional(),
    /** Standard deviation of additive Gaussian noise, in the channel's units. */
    noiseStd: z.number().min(0).max(1e6).default(0),
    /** Transport/processing delay (s): the reading published at t is the newest sample taken <= t - latency. */
    latencySec: z.number().min(0).max(1).default(0),
    /** Probability that a sample is lost. */
    dropout: z.number().min(0).max(1).lt(1).default(0),
    /** What a lost sample publishes: the last good value, or NaN (flagged invalid). */
    dropoutMode: z.enum(['hold', 'nan']).default('hold'),
  })
  .strict();

export const depthSettingsSchema = z
  .object({
    width: z.number().int().min(1).max(640).optional(),
    height: z.number().int().min(1).max(480).optional(),
    fovyDeg: z.number().gt(0).lt(180).optional(),
    maxRangeM: z.number().positive().max(100).optional(),
  })
  .strict();

export type ChannelSettingsInput = z.input<typeof channelSettingsSchema> &
  z.input<typeof depthSettingsSchema>;
export type ChannelSettings = z.output<typeof channelSettingsSchema>;
export type DepthSettings = z.output<typeof depthSettingsSchema>;

/** Settings per channel name. */
export type SensorConfig = Record<string, ChannelSettingsInput>;

export function parseChannelSettings(
  channel: string,
  input: unknown,
  isDepth: boolean,
): ChannelSettings & DepthSettings {
  const schema = isDepth
    ? channelSettingsSchema.extend(depthSettingsSchema.shape).strict()
    : channelSettingsSchema;
  const r = schema.safeParse(input ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const setting =
      issue.path.length > 0 ? issue.path.join('.') : (issue as { keys?: string[] }).keys?.join(', ');
    throw new TgError(
      'INPUT_INVALID',
      `sensor '${channel}': setting '${setting ?? '?'}' is invalid: ${issue.message}`,
    );
  }
  return r.data as ChannelSettings & DepthSettings;
}
