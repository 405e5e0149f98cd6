import { z } from 'zod';

/** The effective configuration of a `tg` process. Every key is documented here; `tg config` prints it. */
export const configSchema = z
  .object({
    /** Where the embedded catalog, blobs and datasets live. */
    home: z.string().min(1),
    /** HTTP port of the hub and its console; 0 picks a free port (the URL printed names it). */
    port: z.number().int().min(0).max(65535),
    /** Interface the hub binds to. */
    host: z.string().min(1),
    /** PostgreSQL catalog instead of the embedded PGlite one. */
    databaseUrl: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// or postgresql:// URL')
      .nullable(),
    /** NATS server for the field -> hub transport instead of HTTP. */
    natsUrl: z
      .string()
      .regex(/^(nats|tls|ws|wss):\/\//, 'expected a nats:// URL')
      .nullable(),
    up: z
      .object({
        /** Episodes `tg up` drills before idling (or exiting with --exit). */
        episodes: z.number().int().min(1).max(100000),
        /** Simulated robots the embedded field runs. */
        robots: z.number().int().min(1).max(1000),
        /** Dataset frame rate (frames per second of simulated time). */
        fps: z.number().int().min(1).max(1000),
        /** Seed of the first episode; episode k uses seed + k. */
        seed: z.number().int().min(0),
      })
      .strict(),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

export const DEFAULT_CONFIG: Config = {
  home: './.tg',
  port: 7800,
  host: '127.0.0.1',
  databaseUrl: null,
  natsUrl: null,
  up: { episodes: 10, robots: 1, fps: 30, seed: 0 },
};

/** A partial config as it may appear in a file or be built from env/flags. */
export type ConfigLayer = {
  [K in keyof Config]?: Config[K] extends object | null ? Partial<NonNullable<Config[K]>> | null : Config[K];
};
