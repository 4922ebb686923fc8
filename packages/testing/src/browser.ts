import type { Browser } from 'playwright-core';

/**
 * Flags for Debian's Chromium in CI and on developer machines: no sandbox (runs as root), and no
 * background networking, component updates or sync — the network is closed, and those would be
 * refused connections at every start.
 */
export const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/**
 * Headless Debian Chromium (/usr/bin/chromium, or CHROMIUM_PATH) for the browser tests.
 * playwright-core is loaded here, not at import: every test file that imports this package would
 * otherwise load and compile its bundles, and most of them never start a browser.
 */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: chromiumArgs });
}
