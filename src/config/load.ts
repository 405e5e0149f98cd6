import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { TgError } from '../errors/index.ts';
import { type Config, configSchema, DEFAULT_CONFIG } from './schema.ts';

/** Config file looked up in the working directory when none is named. */
export const CONFIG_FILE_NAME = 'tg.config.json';

export interface LoadConfigOptions {
  /** Explicit config file (`--config`); an explicit file that does not exist is an error. */
  file?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from CLI flags, highest precedence. */
  flags?: Record<string, unknown>;
}

export interface LoadedConfig {
  config: Config;
  /** Where each layer came from, for `tg config`. */
  sources: string[];
}

type Layer = Record<string, unknown>;

/** Defaults, then the config file, then environment, then CLI flags; validated as a whole. */
export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const env = opts.env ?? process.env;
  const sources = ['defaults'];
  let merged: Layer = structuredClone(DEFAULT_CONFIG) as Layer;
  // Validate after each layer so an error names the layer (file, environment, flags) that broke it.
  const apply = (layer: Layer, source: string) => {
    if (Object.keys(layer).length === 0) return;
    merged = mergeLayer(merged, layer);
    validateConfig(merged, source);
    sources.push(source);
  };

  const file = opts.file ? path.resolve(cwd, opts.file) : path.join(cwd, CONFIG_FILE_NAME);
  if (opts.file || existsSync(file)) apply(readConfigFile(file), file);
  apply(envLayer(env), 'environment');
  apply(opts.flags ?? {}, 'flags');
  const config = validateConfig(merged, 'config');
  config.home = path.resolve(cwd, config.home);
  return { config, sources };
}

function readConfigFile(file: string): Layer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TgError('CONFIG_UNREADABLE', `cannot read config file ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new TgError(
      'CONFIG_UNREADABLE',
      `config file ${file} is not valid JSON: ${(err as Error).message}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TgError('CONFIG_INVALID', `config file ${file} must hold a JSON object`);
  }
  return parsed as Layer;
}

/** TG_* variables. Numbers are parsed here so a bad value is reported against its variable name. */
function envLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = {};
  if (env.TG_HOME) layer.home = env.TG_HOME;
  if (env.TG_PORT !== undefined && env.TG_PORT !== '') {
    layer.port = parseIntStrict(env.TG_PORT, 'TG_PORT');
  }
  if (env.TG_HOST) layer.host = env.TG_HOST;
  if (env.TG_DATABASE_URL) layer.databaseUrl = env.TG_DATABASE_URL;
  if (env.TG_NATS_URL) layer.natsUrl = env.TG_NATS_URL;
  return layer;
}

export function parseIntStrict(text: string, name: string): number {
  if (!/^-?\d+$/.test(text.trim())) {
    throw new TgError('CONFIG_INVALID', `${name}: expected an integer, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function mergeLayer(base: Layer, over: Layer): Layer {
  const out: Layer = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    const prev = out[key];
    if (isPlainObject(prev) && isPlainObject(value)) out[key] = mergeLayer(prev, value);
    else out[key] = value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Layer {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function validateConfig(candidate: unknown, where: string): Config {
  const result = configSchema.safeParse(candidate);
  if (result.success) return result.data;
  throw new TgError('CONFIG_INVALID', formatIssues(result.error.issues, where, candidate));
}

function formatIssues(issues: z.core.$ZodIssue[], where: string, candidate: unknown): string {
  const parts = issues.map((issue) => {
    const key = issue.path.join('.') || '(root)';
    if (issue.code === 'unrecognized_keys') {
      const prefix = issue.path.length ? `${issue.path.join('.')}.` : '';
      return `unknown key ${issue.keys.map((k) => `"${prefix}${k}"`).join(', ')}`;
    }
    const got = valueAt(candidate, issue.path);
    return `"${key}": ${issue.message.replace(/^Invalid input: /, '')}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`;
  });
  return `invalid config (${where}): ${parts.join('; ')}`;
}

function valueAt(root: unknown, keys: PropertyKey[]): unknown {
  let node = root;
  for (const key of keys) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}
