// End-to-end: your own scenario. Edit a copy of a bundled scenario, see an error at its line,
// fix it, run it, share it as a link (fresh page, iframe on another origin, embed code), and get
// the CLI's CSV from the downloaded TOML; open ?src= files beside the site; hostile links and
// files get a message, never a frozen tab or a console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { serve } from './server.mjs';
import { launch, openPage, drawnPixels, waitCaughtUp, cli } from './browser.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PRIMER = readFileSync(`${ROOT}scenarios/retry-storm.toml`, 'utf8');
const TITLE = 'Retry storm after a brief server crash';
let server;
let browser;

before(async () => {
  server = await serve(`${ROOT}dist/`, '/team/postmortems/lab/');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});



/** Serves `text` at `path` (under the site) for this page only. */
async function host(page, path, text, status = 200) {
  await page.route(`**/team/postmortems/lab/${path}`, (route) => route.fulfill({ status, body: text, contentType: 'application/toml' }));
}

test('edit a copy: an error shows at its line, the fixed copy replays, and its link, embed and CSV are the same run as the CLI on the downloaded TOML', async () => {
  const errors = [];
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 720 } });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(server.url);
  await page.getByRole('button', { name: `Replay ${TITLE}` }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  await page.getByRole('link', { name: 'Edit a copy' }).click();
  // The authoring module opens the same scenario with the editor beside it, on its file.
  const editor = page.getByLabel('Scenario file (TOML)');
  await editor.waitFor();
  await page.waitForFunction(() => document.querySelector('textarea').value.includes('[clients.users]'));
  assert.equal(await editor.inputValue(), PRIMER, 'the file as written, comments and all');
  await page.getByRole('heading', { name: TITLE }).waitFor();

  // An error, typed: it shows at its line and column with the parameter path, Run is disabled.
  const broken = PRIMER.replace('rate_rps = 70', 'rate_rps = -5');
  const line = broken.split('\n').findIndex((l) => l.includes('rate_rps = -5')) + 1;
  await editor.fill(broken);
  const status = page.locator('#editor-status');
  await page.waitForFunction(() => /Line \d+/.test(document.querySelector('#editor-status').textContent));
  const said = await status.textContent();
  assert.match(said, new RegExp(`Line ${line}, column \\d+: \`clients\\.users\\.rate_rps\``), said);
  assert.equal(await page.locator('.gutter .bad').textContent(), `${line}\n`);
  assert.ok(await page.getByRole('button', { name: 'Run', exact: true }).isDisabled());
  // "Show line N" puts the caret at the start of that line.
  await page.getByRole('button', { name: `Show line ${line}` }).click();
  const caret = await editor.evaluate((t) => t.selectionStart);
  assert.equal(caret, broken.split('\n').slice(0, line - 1).join('\n').length + 1);
  assert.ok(await editor.evaluate((t) => document.activeElement === t));
  // Fixed, and made ours: it checks clean and runs.
  const ours = PRIMER.replace('rate_rps = 70', 'rate_rps = 72').replace(`title = "${TITLE}"`, 'title = "Our retry storm"');
  assert.notEqual(ours, PRIMER);
  await editor.fill(ours);
  await page.waitForFunction(() => /No errors/.test(document.querySelector('#editor-status').textContent));
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.getByRole('heading', { name: 'Our retry storm' }).waitFor();
  await page.getByRole('button', { name: 'Next beat' }).click();
  await page.getByRole('button', { name: 'Next beat' }).click();
  await waitCaughtUp(page);
  await page.waitForFunction(() => location.hash.startsWith('#scenario=1.') && /[?&]t=/.test(location.search));
  const url = page.url();
  const clock = await page.locator('.timeline-clock strong').textContent();
  const verdict = await page.locator('.verdicts').textContent();

  // Download TOML: exactly the text that runs.
  const [toml] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download TOML' }).click()]);
  assert.equal(toml.suggestedFilename(), 'retry-storm.toml');
  const dir = mkdtempSync(join(tmpdir(), 'cascade-authoring-'));
  const file = join(dir, 'ours.toml');
  writeFileSync(file, readFileSync(await toml.path(), 'utf8'));
  assert.equal(readFileSync(file, 'utf8'), ours);

  // The link in a fresh page: the same run at the same moment.
  const again = await openPage(browser, url, errors);
  await again.getByRole('heading', { name: 'Our retry storm' }).waitFor();
  await waitCaughtUp(again);
  assert.equal(await again.locator('.timeline-clock strong').textContent(), clock);
  assert.equal(await again.locator('.verdicts').textContent(), verdict);
  // At the end, its CSV is the CLI's on the downloaded file.
  const end = new URL(url);
  end.searchParams.set('t', '60');
  const full = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 720 } });
  full.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await full.goto(end.href);
  await full.getByRole('heading', { name: 'Our retry storm' }).waitFor();
  await waitCaughtUp(full);
  const [csv] = await Promise.all([full.waitForEvent('download'), full.getByRole('button', { name: 'Download data (CSV)' }).click()]);
  assert.equal(readFileSync(await csv.path(), 'utf8'), cli(['run', file, '--format', 'csv']));
  // The PNG too, headed by our scenario's title.
  await full.evaluate(() => {
    window.drawnTexts = [];
    const fillText = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
      window.drawnTexts.push(String(text));
      return fillText.call(this, text, ...rest);
    };
  });
  const [png] = await Promise.all([full.waitForEvent('download'), full.getByRole('button', { name: 'Download charts (PNG)' }).click()]);
  assert.deepEqual([...readFileSync(await png.path()).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.equal((await full.evaluate(() => window.drawnTexts))[0], 'Our retry storm');
  // The embed code carries the scenario too.
  await full.getByRole('button', { name: 'Copy embed code' }).click();
  const code = await full.getByLabel('Embed code').inputValue();
  assert.match(code, /embed=1#scenario=1\./);

  // In an iframe on another origin.
  const embedUrl = new URL(url);
  embedUrl.searchParams.set('embed', '1');
  const other = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<!doctype html><title>Our postmortem</title><iframe id="replay" src="${embedUrl.href}" width="800" height="450" title="Replay"></iframe>`);
  });
  await new Promise((r) => other.listen(0, '127.0.0.1', r));
  const postmortem = await openPage(browser, `http://127.0.0.1:${other.address().port}/`, errors);
  const frame = postmortem.frameLocator('#replay');
  await frame.getByText('Our retry storm').first().waitFor();
  await frame.getByRole('button', { name: 'Play', exact: true }).waitFor();
  await frame.locator('canvas[aria-label="What happened to requests"]').waitFor();
  const inner = postmortem.frames().find((f) => f.url().includes('embed=1'));
  await inner.waitForFunction(() => !document.querySelector('.timeline [role=status]'), null, { timeout: 120_000 });
  assert.equal(await frame.locator('.timeline-clock strong').first().textContent(), clock);
  assert.ok((await drawnPixels(inner, 'canvas[aria-label="What happened to requests"]')) > 1_000);
  assert.deepEqual(errors, []);
  for (const p of [page, again, full, postmortem]) await p.close();
  await new Promise((r) => other.close(r));
});

test('a ?src= scenario beside the site opens from a sub-path; an opened or dropped file goes to the editor', async () => {
  const errors = [];
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  const ours = PRIMER.replace(`title = "${TITLE}"`, 'title = "Hosted beside the site"');
  await host(page, 'incidents/ours.toml', ours);
  await page.goto(`${server.url}?src=incidents/ours.toml&t=20`);
  await page.getByRole('heading', { name: 'Hosted beside the site' }).waitFor();
  await waitCaughtUp(page);
  assert.match(page.url(), /src=incidents%2Fours\.toml/);
  assert.equal(await page.locator(".timeline-clock strong").textContent(), "0:20");
  // Edit a copy of it, then open a file with the picker.
  await page.getByRole('button', { name: 'Edit a copy' }).click();
  assert.equal(await page.getByLabel('Scenario file (TOML)').inputValue(), ours);
  const dir = mkdtempSync(join(tmpdir(), 'cascade-open-'));
  const picked = join(dir, 'picked.toml');
  writeFileSync(picked, PRIMER.replace(`title = "${TITLE}"`, 'title = "Picked from disk"'));
  await page.locator('.editor input[type=file]').setInputFiles(picked);
  await page.waitForFunction(() => document.querySelector('textarea').value.includes('Picked from disk'));
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await page.getByRole('heading', { name: 'Picked from disk' }).waitFor();
  // A file dropped on the editor replaces its text.
  const dropped = PRIMER.replace(`title = "${TITLE}"`, 'title = "Dropped on the editor"');
  const transfer = await page.evaluateHandle((text) => {
    const data = new DataTransfer();
    data.items.add(new File([text], 'dropped.toml', { type: 'application/toml' }));
    return data;
  }, dropped);
  await page.dispatchEvent('.editor', 'drop', { dataTransfer: transfer });
  await page.waitForFunction(() => document.querySelector('textarea').value.includes('Dropped on the editor'));
  await page.waitForFunction(() => /No errors/.test(document.querySelector('#editor-status').textContent));
  // From the gallery, "Write or open a scenario" opens the editor on the primer.
  await page.goto(server.url);
  await page.getByRole('link', { name: 'Write or open a scenario' }).click();
  await page.waitForFunction(() => (document.querySelector('textarea')?.value ?? '').includes('[clients.users]'));
  assert.deepEqual(errors, []);
  await page.close();
});

test('hostile ?src= and #scenario= links get a message, never a frozen tab, a script or a console error', async () => {
  const day = PRIMER.replace('duration_s = 60', 'duration_s = 86400').replace('rate_rps = 70', 'rate_rps = 100000');
  const script = PRIMER.replace(`title = "${TITLE}"`, 'title = "<img src=x onerror=alert(1)>"');
  const cases = [
    ['?src=https://evil.example/x.toml', /not a path on this site/],
    ['?src=//evil.example/x.toml', /not a path on this site/],
    ['?src=incidents/missing.toml', /could not be loaded/],
    ['?src=incidents/huge.toml', /at most 256 KB/, ['incidents/huge.toml', '# x\n'.repeat(100_000)]],
    ['?src=incidents/broken.toml', /cannot be opened: broken\.toml:\d+:\d+/, ['incidents/broken.toml', PRIMER.replace('[clients.users]', '[clients.users')]],
    ['?src=incidents/day.toml', /billion steps/, ['incidents/day.toml', day]],
    ['#scenario=1.0000.AAAA', /damaged/],
    ['#scenario=9.00.xyz', /format this Cascade Lab does not read/],
    [`#scenario=1.00.${'A'.repeat(40_000)}`, /at most 32 KB/],
  ];
  for (const [query, expected, file] of cases) {
    const errors = [];
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.on('console', (m) => m.type() === 'error' && !/404/.test(m.text()) && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    let dialog = false;
    page.on('dialog', async (d) => {
      dialog = true;
      await d.dismiss();
    });
    if (file) await host(page, file[0], file[1]);
    if (query.includes('missing')) await host(page, 'incidents/missing.toml', 'gone', 404);
    const started = Date.now();
    await page.goto(server.url + query);
    const alert = page.getByRole('alert').first();
    await alert.waitFor({ timeout: 30_000 });
    assert.match(await alert.textContent(), expected, query);
    // The tab answers at once.
    const t0 = Date.now();
    await page.evaluate(() => 1);
    assert.ok(Date.now() - t0 < 2_000, `${query}: the tab is responsive`);
    assert.ok(Date.now() - started < 30_000, query);
    assert.equal(dialog, false, query);
    assert.deepEqual(errors, [], query);
    await page.close();
  }
  // The main-thread benchmark page that blocked the tab is gone: ?bench= is the gallery.
  {
    const errors = [];
    const page = await openPage(browser, `${server.url}?bench=airtame-2020-02-table-scan-reconnect`, errors);
    await page.getByRole('heading', { name: 'Outages to replay' }).waitFor();
    const t0 = Date.now();
    await page.evaluate(() => 1);
    assert.ok(Date.now() - t0 < 2_000, '?bench=: the tab is responsive');
    assert.deepEqual(errors, []);
    await page.close();
  }
  // A title with markup is shown as text.
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  let dialog = false;
  page.on('dialog', async (d) => {
    dialog = true;
    await d.dismiss();
  });
  await host(page, 'incidents/script.toml', script);
  await page.goto(`${server.url}?src=incidents/script.toml`);
  await page.getByRole('heading', { name: '<img src=x onerror=alert(1)>' }).waitFor();
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  assert.equal(dialog, false);
  await page.close();
});

test('what if: a slider sets a declared parameter, the run starts again, the link carries it, and its CSV is the CLI run with --set', async () => {
  const errors = [];
  const page = await openPage(browser, `${server.url}?s=retry-storm&t=20`, errors);
  await page.getByRole('heading', { name: TITLE }).waitFor();
  // The player's module links to the panel; the authoring module shows it.
  await page.getByRole('link', { name: 'What if…' }).click();
  await page.getByRole('heading', { name: 'What if' }).waitFor();
  const load = page.getByRole('slider', { name: "Users' requests per second" });
  assert.equal(await load.inputValue(), '70');
  await load.fill('30');
  await page.waitForFunction(() => /set=clients\.users\.rate_rps%4030/.test(location.search));
  await page.locator('.what-if-row.changed').waitFor();
  await waitCaughtUp(page);
  // The link, opened at the end: the same run the CLI makes with --set.
  const end = new URL(page.url());
  end.searchParams.set('t', '60');
  const full = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 720 } });
  full.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await full.goto(end.href);
  await full.getByRole('heading', { name: 'What if' }).waitFor();
  assert.equal(await full.getByRole('slider', { name: "Users' requests per second" }).inputValue(), '30');
  await waitCaughtUp(full);
  const [csv] = await Promise.all([full.waitForEvent('download'), full.getByRole('button', { name: 'Download data (CSV)' }).click()]);
  assert.equal(readFileSync(await csv.path(), 'utf8'), cli(['run', 'retry-storm', '--set', 'clients.users.rate_rps=30', '--format', 'csv']));
  // Back to the documented value: the parameter leaves the link.
  await full.getByRole('button', { name: "Back to the documented Users' requests per second" }).click();
  await full.waitForFunction(() => !/set=/.test(location.search));
  // A value outside the declared range, or an undeclared path, is refused with a message.
  for (const bad of ['set=clients.users.rate_rps%401000', 'set=services.server-a.workers%4050']) {
    const p = await openPage(browser, `${server.url}?s=retry-storm&${bad}`, errors);
    const alert = p.getByRole('alert').first();
    await alert.waitFor();
    assert.match(await alert.textContent(), /must be from 30 to 95|not one of this scenario's parameters/);
    await p.close();
  }
  assert.deepEqual(errors, []);
  await page.close();
  await full.close();
});
