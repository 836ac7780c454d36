// End-to-end: permalinks, old links, tampered links, embed mode inside a real iframe on a page
// from another sub-path, and the exports (CSV identical to the CLI's, PNG of the charts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { serve } from './server.mjs';
import { launch, openPage, drawnPixels, waitCaughtUp, cli } from './browser.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = `${ROOT}dist/`;
let server;
let browser;

before(async () => {
  server = await serve(DIST, '/team/postmortems/lab/');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});


test('the URL follows the view and reopening it restores the same state', async () => {
  const errors = [];
  const page = await openPage(browser, server.url, errors);
  const entries = await page.evaluate(() => history.length);
  await page.getByRole('button', { name: 'Replay Retry storm after a brief server crash' }).click();
  await page.getByRole('switch', { name: 'jitter', exact: true }).check();
  await page.getByLabel('Seed').fill('5');
  await page.getByLabel('Seed').press('Enter');
  await page.getByRole('button', { name: 'Next beat' }).click();
  await page.getByRole('button', { name: 'Next beat' }).click();
  await waitCaughtUp(page);
  await page.waitForFunction(() => location.search.includes('t=11'));
  const url = page.url();
  assert.match(url, /v=1/);
  assert.match(url, /s=retry-storm/);
  assert.match(url, /fix=jitter/);
  assert.match(url, /seed=5/);
  const clock = await page.locator('.timeline-clock strong').textContent();
  const verdict = await page.locator('.verdicts').textContent();

  const again = await openPage(browser, url, errors);
  await again.getByRole('heading', { name: 'Retry storm after a brief server crash' }).waitFor();
  await waitCaughtUp(again);
  assert.equal(await again.locator('.timeline-clock strong').textContent(), clock);
  assert.equal(await again.getByLabel('Seed').inputValue(), '5');
  assert.ok(await again.getByRole('switch', { name: 'jitter', exact: true }).isChecked());
  assert.equal(await again.locator('.verdicts').textContent(), verdict);
  assert.deepEqual(errors, []);
  // Changing the view did not add history entries.
  assert.equal(await page.evaluate(() => history.length), entries);
  await page.close();
  await again.close();
});

test('links made by earlier versions still open', async () => {
  const lines = readFileSync(new URL('./fixtures/links.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#'));
  for (const line of lines) {
    const [query, title, fixes, clock] = line.split('|').map((s) => s.trim());
    const errors = [];
    const page = await openPage(browser, server.url + query, errors);
    await page.getByRole('heading', { name: title }).waitFor();
    await waitCaughtUp(page);
    assert.equal(await page.locator('.message').count(), 0, `${query}: no error message`);
    assert.equal(await page.locator('.timeline-clock strong').textContent(), clock, query);
    for (const fix of fixes ? fixes.split(',') : []) {
      assert.ok(await page.locator('.fix', { hasText: fix }).locator('input[role="switch"]').isChecked(), `${query}: ${fix} on`);
    }
    assert.deepEqual(errors, [], query);
    await page.close();
  }
});

test('malformed or tampered links get a message and the gallery, and run no script', async () => {
  const bad = [
    '?s=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E',
    '?s=no-such-outage',
    '?s=retry-storm&fix=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    '?s=retry-storm&fix=made-up-fix',
    '?s=retry-storm&t=99999',
    '?s=retry-storm&seed=minus-one',
    '?v=99&s=retry-storm',
  ];
  for (const query of bad) {
    const errors = [];
    const page = await openPage(browser, server.url + query, errors);
    let dialog = false;
    page.on('dialog', async (d) => {
      dialog = true;
      await d.dismiss();
    });
    await page.getByRole('heading', { name: 'Outages to replay' }).waitFor();
    const message = await page.getByRole('alert').first().textContent();
    assert.match(message, /outages instead/, query);
    assert.equal(await page.locator('img[src="x"]').count(), 0, query);
    assert.equal(dialog, false, query);
    assert.deepEqual(errors, [], query);
    await page.close();
  }
});

test('embed mode works inside an iframe on another page, at 320×240 and larger', async () => {
  // A page of a "postmortem" on another origin that embeds the replay.
  const src = `${server.url}?v=1&s=retry-storm&t=40&embed=1&controls=fixes`;
  const plain = `${server.url}?v=1&s=svix-2023-06-auth-token-stampede&t=1500&embed=1`;
  const host = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>Postmortem</title><h1>Our outage</h1>
      <iframe id="small" src="${src}" width="320" height="240" title="Replay"></iframe>
      <iframe id="large" src="${src}" width="900" height="600" title="Replay large"></iframe>
      <iframe id="card" src="${plain}" width="480" height="270" title="Replay card"></iframe>
      <iframe id="tiny" src="${plain}" width="320" height="240" title="Replay tiny"></iframe>`);
  });
  await new Promise((r) => host.listen(0, '127.0.0.1', r));
  const errors = [];
  const page = await openPage(browser, `http://127.0.0.1:${host.address().port}/`, errors);
  for (const id of ['small', 'large']) {
    const frame = page.frameLocator(`#${id}`);
    await frame.getByRole('button', { name: 'Play', exact: true }).waitFor();
    await frame.getByRole('link', { name: /Open in Cascade Lab/ }).waitFor();
    const href = await frame.getByRole('link', { name: /Open in Cascade Lab/ }).getAttribute('href');
    assert.match(href, /\/team\/postmortems\/lab\/\?v=1&s=retry-storm/);
    assert.doesNotMatch(href, /embed=1/);
    await frame.getByRole('button', { name: 'Play', exact: true }).click();
    await frame.getByRole('button', { name: 'Pause' }).waitFor();
    await frame.getByRole('button', { name: 'Pause' }).click();
  }
  const frame = page.frameLocator('#large');
  assert.ok((await frame.locator('canvas[aria-label="What happened to requests"]').evaluate((c) => c.width)) > 0);
  await frame.locator('.fix input[role="switch"]').first().waitFor();
  const inner = page.frames().find((f) => f.url().includes('embed=1'));
  assert.ok((await drawnPixels(inner, 'canvas[aria-label="What happened to requests"]')) > 1_000, 'chart drawn in the iframe');
  // In the 320×240 frame the controls and the chart are visible without scrolling.
  const box = await page.locator('#small').boundingBox();
  const play = await page.frameLocator('#small').getByRole('button', { name: 'Play', exact: true }).boundingBox();
  const chart = await page.frameLocator('#small').locator('canvas[aria-label="What happened to requests"]').boundingBox();
  assert.ok(play.y + play.height <= box.y + box.height, 'controls inside the small frame');
  assert.ok(chart.y + chart.height * 0.5 <= box.y + box.height, 'the chart shows in the small frame');
  assert.ok(chart.x + chart.width <= box.x + box.width + 1, 'the chart fits the frame width');
  // Without the fix switches, the common embed sizes show everything whole: the title, the
  // controls, the timeline, the verdict so far, the caption, the chart and its legend below it.
  for (const id of ['card', 'tiny']) {
    const frame = page.frameLocator(`#${id}`);
    await frame.locator('.embed-verdict').waitFor();
    const outer = await page.locator(`#${id}`).boundingBox();
    const parts = {};
    for (const [name, selector] of [['title', '.embed-title'], ['play', 'button[aria-label="Play"]'], ['timeline', 'input[aria-label="Timeline"]'],
      ['verdict', '.embed-verdict'], ['caption', '.current-caption'], ['chart', 'canvas[aria-label="What happened to requests"]'], ['legend', '.chart .legend']]) {
      parts[name] = await frame.locator(selector).first().boundingBox();
      const b = parts[name];
      assert.ok(b && b.height > 0 && b.y >= outer.y - 1 && b.y + b.height <= outer.y + outer.height + 1 && b.x + b.width <= outer.x + outer.width + 1,
        `${id}: ${name} is not whole in the ${outer.width}×${outer.height} frame: ${JSON.stringify(b)}`);
    }
    assert.ok(parts.chart.height >= 80, `${id}: the chart is ${parts.chart.height}px tall`);
    assert.ok(parts.legend.y >= parts.chart.y + parts.chart.height - 1, `${id}: the legend covers the chart`);
    assert.match(await frame.locator('.embed-verdict').textContent(), /^15:49:00 UTC · so far: (did not recover|degraded|no outage)/);
    assert.ok((await frame.locator('.current-caption').textContent()).length > 20, `${id}: caption`);
  }
  assert.deepEqual(errors, []);
  await page.close();
  await new Promise((r) => host.close(r));
});

test('the copied embed code is an iframe of this sandbox in embed mode', async () => {
  const errors = [];
  const page = await openPage(browser, `${server.url}?s=retry-storm&t=20`, errors);
  await page.getByRole('button', { name: 'Copy embed code' }).click();
  const code = await page.getByLabel('Embed code').inputValue();
  assert.match(code, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/team\/postmortems\/lab\/\?v=1&amp;s=retry-storm&amp;t=20.*embed=1"/);
  assert.deepEqual(errors, []);
  await page.close();
});


test('the CSV download holds exactly what the CLI prints, and the PNG is an image', async () => {
  const errors = [];
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 720 } });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${server.url}?s=retry-storm&fix=jitter&seed=4&t=60`);
  await waitCaughtUp(page);
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download data (CSV)' }).click()]);
  assert.equal(csv.suggestedFilename(), 'retry-storm-seed4.csv');
  const web = readFileSync(await csv.path(), 'utf8');
  const fromCli = cli(['run', 'retry-storm', '--fix', 'jitter', '--seed', '4', '--format', 'csv']);
  assert.equal(web, fromCli);
  // What the PNG says in words: the scenario, the run (fixes, seed, moment), each chart's title
  // and legend. (Recorded as it is drawn: the canvas's text calls.)
  await page.evaluate(() => {
    window.drawnTexts = [];
    const fillText = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
      window.drawnTexts.push(String(text));
      return fillText.call(this, text, ...rest);
    };
  });
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download charts (PNG)' }).click()]);
  const bytes = readFileSync(await png.path());
  assert.deepEqual([...bytes.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.ok(bytes.length > 10_000, `${bytes.length} bytes`);
  const texts = await page.evaluate(() => window.drawnTexts);
  assert.equal(texts[0], 'Retry storm after a brief server crash');
  assert.match(texts[1], /^Fixes: jitter · seed 4 · at 1:00 \(1:00 of \d+:\d\d\) · Cascade Lab$/);
  for (const expected of ['What happened to requests', 'Latency of successful requests', 'succeeded', 'timed out', 'offered', 'p99']) {
    assert.ok(texts.includes(expected), `the PNG lacks "${expected}": ${JSON.stringify(texts)}`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('the PNG of a phone-sized page keeps every text on the sheet, long titles wrapped', async () => {
  const errors = [];
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 390, height: 844 } });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${server.url}?s=svix-2023-06-auth-token-stampede&fix=single-flight&at=index-query@1500&t=1800`);
  await waitCaughtUp(page);
  await page.evaluate(() => {
    window.overflowing = [];
    window.drawnTexts = [];
    const fillText = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
      window.drawnTexts.push(String(text));
      const right = x + this.measureText(text).width;
      if (right > this.canvas.width + 0.5 || x < 0) window.overflowing.push(`${text} (${x}…${right} of ${this.canvas.width})`);
      return fillText.call(this, text, x, y, ...rest);
    };
  });
  const [png] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download charts (PNG)' }).click()]);
  assert.deepEqual([...readFileSync(await png.path()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.deepEqual(await page.evaluate(() => window.overflowing), []);
  const texts = await page.evaluate(() => window.drawnTexts);
  // The title took more than one line, and the stamp names both fixes.
  assert.ok(texts[0].length < 'An OR query loses its indexes: auth-token cache stampede in the US region'.length, texts[0]);
  assert.ok(texts.some((t) => t.includes('single-flight')) && texts.some((t) => t.includes('index-query from 15:49')), JSON.stringify(texts.slice(0, 6)));
  assert.deepEqual(errors, []);
  await page.close();
});
