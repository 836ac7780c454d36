// End-to-end: the built site (dist/) in real headless Chromium, as a user sees it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { serve } from './server.mjs';
import { launch, openPage, drawnPixels } from './browser.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
let server;
let browser;

before(async () => {
  server = await serve(DIST, '/some/sub/path/');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('a user picks a scenario, runs it and sees the chart drawn', async () => {
  const errors = [];
  const page = await openPage(browser, server.url, errors);
  const picker = page.getByLabel('Scenario');
  await picker.waitFor();
  const options = await picker.locator('option').allTextContents();
  assert.ok(options.some((o) => o.includes('Retry storm')), `options: ${options}`);
  await picker.selectOption({ label: options.find((o) => o.includes('Retry storm')) });

  await page.getByRole('button', { name: 'Run' }).click();
  const chart = page.getByRole('img', { name: 'Request rates' });
  await chart.waitFor();
  await page.getByText('Finished').waitFor({ timeout: 30_000 });

  const pixels = await drawnPixels(page);
  assert.ok(pixels > 5_000, `only ${pixels} pixels drawn on the chart`);
  const values = await page.locator('.chart-values').textContent();
  assert.match(values, /At 60 s: offered \d+/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('the page loads from a sub-path with no failed requests', async () => {
  const errors = [];
  const failed = [];
  const page = await browser.newPage();
  page.on('requestfailed', (r) => failed.push(r.url()));
  page.on('response', (r) => {
    if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
  });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(server.url);
  await page.getByRole('heading', { name: 'Cascade Lab' }).waitFor();
  assert.deepEqual(failed, []);
  assert.deepEqual(errors, []);
  await page.close();
});
