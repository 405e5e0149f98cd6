export type { ImportedRobot, ImportOptions, ModelFormat } from './import-robot.ts';
export { compileImported, importRobot, robotId } from './import-robot.ts';
export type { RegisteredRobot, RobotManifest } from './registry.ts';
export { EmbodimentRegistry } from './registry.ts';
export { collectSources, findMainModel } from './sources.ts';
