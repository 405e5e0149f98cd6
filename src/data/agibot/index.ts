export {
  type AgibotEpisodeReport,
  type AgibotImportOptions,
  type AgibotImportReport,
  importAgibot,
} from './import.ts';
export { AGIBOT_FPS, proprioPath } from './layout.ts';
