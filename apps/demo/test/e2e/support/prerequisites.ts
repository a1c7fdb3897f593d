/**
 * What the Chromium end-to-end suite needs before it can run, and the skip-or-fail rule: in CI
 * (`CI=true`) or with `TESSERA_REQUIRE_SERVICES=1` a missing Chromium or a missing demo build
 * FAILS the suite with a message saying what to install or build; elsewhere the suite is skipped
 * with a loud notice, so a laptop without Chromium can still run `npm test`.
 */

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, beforeEach } from 'vitest';

/** Debian's `chromium` package; override with `TESSERA_CHROMIUM` for another build. */
export const CHROMIUM_PATH = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';

/** The demo app's root (`apps/demo/`). */
export const DEMO_DIR = fileURLToPath(new URL('../../../', import.meta.url));

/** The repository root: screenshots go to `<root>/test-results/`. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../../', import.meta.url));

/** The compiled `startDemo()` module and the Vite build it serves (both from `npm run build`). */
export const DEMO_SERVER_MODULE = fileURLToPath(new URL('../../../dist-server/start-demo.js', import.meta.url));
const DEMO_BUILD_FILES = [DEMO_SERVER_MODULE, fileURLToPath(new URL('../../../dist/index.html', import.meta.url))];

/** True when CI asked for every external service: then nothing may be skipped. */
export const servicesRequired = process.env.CI === 'true' || process.env.TESSERA_REQUIRE_SERVICES === '1';

/** Human-readable list of what is missing; empty when the suite can run. */
export function findMissingPrerequisites(): string[] {
  const missing: string[] = [];
  if (!existsSync(CHROMIUM_PATH)) {
    missing.push(`Chromium at ${CHROMIUM_PATH} (Debian: apt-get install chromium; or set TESSERA_CHROMIUM)`);
  }
  for (const file of DEMO_BUILD_FILES) {
    if (!existsSync(file)) missing.push(`the demo build ${file} (run \`npm run build\`)`);
  }
  return missing;
}

const missing = findMissingPrerequisites();

/**
 * Whether the e2e files skip. Never true when services are required: the suite then runs and
 * {@link assertPrerequisites} fails it in `beforeAll` with the list of what is missing.
 */
export const skipE2e = missing.length > 0 && !servicesRequired;

if (skipE2e) {
  console.warn(
    `\n*** Chromium e2e tests SKIPPED: missing ${missing.join('; ')}. ` +
      'CI (CI=true or TESSERA_REQUIRE_SERVICES=1) fails instead of skipping. ***\n',
  );
}

/** Throws (failing the suite) when something the suite needs is missing. */
export function assertPrerequisites(): void {
  const now = findMissingPrerequisites();
  if (now.length > 0) {
    throw new Error(`Chromium e2e suite cannot run, missing: ${now.join('; ')}`);
  }
}

/**
 * Registers the suite's `beforeAll` so that a setup failure (something missing in CI, a browser
 * or server that does not start) FAILS every test with that error instead of leaving them
 * "skipped" behind a failed hook: the CI summary then counts them as failed.
 */
export function prepareSuite(setup: () => Promise<void>): void {
  let setupError: unknown;
  beforeAll(async () => {
    try {
      assertPrerequisites();
      await setup();
    } catch (error) {
      setupError = error;
    }
  });
  beforeEach(() => {
    if (setupError !== undefined) throw setupError;
  });
}
