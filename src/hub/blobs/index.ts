export {
  type BlobInfo,
  BlobStore,
  type BlobStoreOptions,
  DEFAULT_MAX_BLOB_BYTES,
  type PutResult,
} from './blob-store.ts';
