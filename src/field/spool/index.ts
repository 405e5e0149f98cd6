export { Spool, type SpoolEntry, type SpoolOptions, type SpoolStats } from './spool.ts';
