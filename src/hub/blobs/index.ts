export {
  type BlobInfo,
  BlobStore,
  type BlobStoreOptions,
  DEFAULT_MAX_BLOB_BYTES,
  type HashedBlob,
  type PutResult,
  type WrittenPack,
} from './blob-store.ts';
