import type { Command } from 'commander';
import { type Config, type LoadedConfig, loadConfig } from '../config/index.ts';
import type { OutputOptions } from './output.ts';

/** What every command gets: the effective config and the output mode, from the global flags. */
export interface CommandContext extends OutputOptions {
  config: Config;
  loaded: LoadedConfig;
}

export interface GlobalFlags {
  json?: boolean;
  debug?: boolean;
  config?: string;
  home?: string;
  port?: number;
}

/** Builds the context from the global flags plus a command's own config overrides (flags layer). */
export function commandContext(cmd: Command, flagOverrides: Record<string, unknown> = {}): CommandContext {
  const g = cmd.optsWithGlobals<GlobalFlags>();
  const flags: Record<string, unknown> = { ...flagOverrides };
  if (g.home !== undefined) flags.home = g.home;
  if (g.port !== undefined) flags.port = g.port;
  const loaded = loadConfig({ file: g.config, flags });
  return { config: loaded.config, loaded, json: g.json ?? false, debug: g.debug ?? false };
}
