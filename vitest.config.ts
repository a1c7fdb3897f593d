import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests run against the TypeScript sources of every workspace package, so `npm test` needs
// no build step: `@tessera/<name>` resolves to `packages/<name>/src/index.ts` and a subpath
// `@tessera/<name>/<sub>` to `packages/<name>/src/<sub>.ts`.
const packagesDir = fileURLToPath(new URL('./packages/', import.meta.url));
const names = readdirSync(packagesDir).join('|');
const alias = [
  { find: new RegExp(`^@tessera/(${names})$`), replacement: `${packagesDir}$1/src/index.ts` },
  { find: new RegExp(`^@tessera/(${names})/([a-z-]+)$`), replacement: `${packagesDir}$1/src/$2.ts` },
];

export default defineConfig({
  resolve: { alias },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
