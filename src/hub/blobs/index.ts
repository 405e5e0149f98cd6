export {
  type BlobInfo,
  BlobStore,
  type BlobStoreOptions,
  DEFAULT_MAX_BLOB_BYTES,
  type HashedBlob,
  type PutResult,
} from './blob-store.ts';
