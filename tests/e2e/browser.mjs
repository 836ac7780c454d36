// Launches the system Chromium through playwright-core (no browser download), with the flags
// this closed network needs.
import { chromium } from 'playwright-core';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Opens a page that records console errors and uncaught exceptions into `errors`. */
export async function openPage(browser, url, errors) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
  await page.goto(url);
  return page;
}

/** Counts the canvas pixels that differ from its top-left (background) pixel. */
export async function drawnPixels(page, selector = 'canvas') {
  return page.$eval(selector, (canvas) => {
    const ctx = canvas.getContext('2d');
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) count++;
    }
    return count;
  });
}

/** Waits until the player's runs are computed up to the playhead (its "catching up" status is gone). */
export async function waitCaughtUp(page) {
  await page.waitForFunction(() => !document.querySelector('.timeline [role=status]'), null, { timeout: 120_000 });
}

/** What the CLI prints for these arguments (the release binary the test command built). */
export function cli(args) {
  const binary = `${ROOT}target/release/cascade`;
  if (existsSync(binary)) return execFileSync(binary, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  return execFileSync('cargo', ['run', '--release', '--quiet', '--', ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 28 });
}
