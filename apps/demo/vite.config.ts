// Vite build of the demo SPA and the decoder (multi-page). `@tessera/client` resolves to the
// SDK's TypeScript sources, like the root vitest config, so the bundle never depends on a stale
// `dist`; Vite bundles the SDK's worker from its default
// `new Worker(new URL('./worker.js', import.meta.url))` (worker.ts), once.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('./'),
  base: '/',
  publicDir: here('./public'),
  resolve: {
    alias: [{ find: /^@tessera\/client$/, replacement: here('../../packages/client/src/index.ts') }],
  },
  build: {
    outDir: here('./dist'),
    emptyOutDir: true,
    target: 'es2022',
    // No inline scripts anywhere (the pages' CSP is `script-src 'self'`).
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rollupOptions: {
      input: { index: here('./index.html'), decoder: here('./decoder.html') },
    },
  },
  worker: { format: 'es' },
  server: {
    // Dev mode: `npx vite apps/demo` with the auth server on :8080 (`npm start`).
    proxy: {
      '/auth': 'http://localhost:8080',
      '/api': 'http://localhost:8080',
      '/.well-known': 'http://localhost:8080',
    },
  },
});
