export { Catalog, type CatalogOpenOptions } from './catalog.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
export * from './types.ts';
