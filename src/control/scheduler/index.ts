export { type HistogramSnapshot, LatencyHistogram } from './latency-histogram.ts';
export { type LayerReport, LayerTelemetry } from './layer-telemetry.ts';
export {
  type CommandLayer,
  type LayerFault,
  MIN_RATE_HZ,
  type PeriodicLayer,
  type PlannerLayer,
  type Plant,
  type RateOptions,
  RateScheduler,
  type SchedulerOptions,
  type SchedulerReport,
} from './scheduler.ts';
