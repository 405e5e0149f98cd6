export {
  ANALYTICS_DIMENSIONS,
  Analytics,
  type AnalyticsDimension,
  type AnalyticsOptions,
  type AnalyticsRow,
  cachedQualityVerdicts,
  TIMELINE_BUCKETS,
  type TimelineBucket,
  type TimelineRow,
  type VerdictSource,
} from './analytics.ts';
