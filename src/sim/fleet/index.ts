export type { FleetBenchOptions, FleetBenchResult } from './bench.ts';
export { bareStepRate, runFleetBench } from './bench.ts';
export { FleetSimulator } from './fleet-simulator.ts';
export type { FleetLayout } from './layout.ts';
export type { FleetModelName, FleetScene } from './scene.ts';
export { compileFleetScene, composeScene, fleetScene } from './scene.ts';
export type { Divergence, FleetOptions, FleetStats, WorkerRestart } from './types.ts';
