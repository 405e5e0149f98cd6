import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The console is a static SPA served by the hub. `npx vite web` runs it against a hub on the default port.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1000 },
  server: { proxy: { '/api': 'http://127.0.0.1:7800' } },
});
