export {
  CONFIG_FILE_NAME,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfig,
  parseIntStrict,
} from './load.ts';
export { type Config, configSchema, DEFAULT_CONFIG } from './schema.ts';
