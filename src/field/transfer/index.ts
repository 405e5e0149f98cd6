export {
  BATCH_MEDIA_TYPE,
  type BatchEntry,
  batchByteLength,
  decodeBatch,
  encodeBatch,
} from './batch.ts';
export {
  BUNDLE_EXTENSION,
  BUNDLE_MEDIA_TYPE,
  type BundleHeader,
  bundleSha256,
  decodeBundle,
  type EncodeBundleOptions,
  encodeBundle,
  readBundleHeader,
  type VerifiedBundle,
  verifyBundle,
} from './bundle.ts';
