// Debian's Chromium driven by playwright-core, headless, with a fresh profile per launch and no
// network of its own (no updates, sync or QUIC). The package is installed by system-deps.mjs;
// playwright's own browser builds are never downloaded.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { REPO } from './daemon-process.js';

export const CHROMIUM = '/usr/bin/chromium';

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** `javaScript: false` shows the page as a reader with scripts off sees it. */
export async function launchChromium(o: { javaScript?: boolean } = {}): Promise<LaunchedBrowser> {
  // Playwright takes the profile directory as an argument of its own, not as --user-data-dir.
  const profile = mkdtempSync(join(tmpdir(), 'chainwatch-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    javaScriptEnabled: o.javaScript ?? true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where tests keep screenshots for people to look at (git ignores it). */
export function artifactPath(name: string): string {
  const dir = join(REPO, 'test', 'artifacts');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}
