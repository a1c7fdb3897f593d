/**
 * Screenshots for the CI artifacts: `<repo>/test-results/<name>.png`, overwritten on every run.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from './prerequisites.js';

export const RESULTS_DIR = join(REPO_ROOT, 'test-results');

export async function saveScreenshot(page: Page, name: string): Promise<string> {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
