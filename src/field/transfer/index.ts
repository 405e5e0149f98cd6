export {
  BUNDLE_EXTENSION,
  BUNDLE_MEDIA_TYPE,
  type BundleHeader,
  bundleSha256,
  decodeBundle,
  encodeBundle,
  readBundleHeader,
} from './bundle.ts';
