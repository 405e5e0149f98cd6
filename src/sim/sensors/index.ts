export type { ChannelSettings, ChannelSettingsInput, DepthSettings, SensorConfig } from './config.ts';
export { channelSettingsSchema, depthSettingsSchema } from './config.ts';
export type { DepthCameraSpec } from './depth-camera.ts';
export { DepthCamera } from './depth-camera.ts';
export { GaussianSource } from './noise.ts';
export type { SensorChannel, SensorPipelineOptions } from './pipeline.ts';
export { DataViews, SensorPipeline } from './pipeline.ts';
