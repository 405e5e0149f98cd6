export * from './channels.ts';
export {
  exportDatasetToMcap,
  exportEpisodeToMcap,
  type McapExportOptions,
  type McapExportResult,
} from './export.ts';
export type { JointKinematics, KinematicDescription } from './kinematics.ts';
export { type OpenedMcap, openMcapFile } from './reader.ts';
