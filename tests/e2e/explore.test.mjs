// End-to-end: "How likely is collapse?" Many seeds of the open configuration with and without
// its fixes, and the stability map filled in by the sweep workers: its cells are the CLI's
// `cascade sweep` numbers, a fix moves its boundary, and a cell (by mouse or keyboard) or a seed
// opens its replay as a permalink.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { serve } from './server.mjs';
import { launch, cli } from './browser.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AXE = fileURLToPath(new URL('./node_modules/axe-core/axe.min.js', import.meta.url));
let server;
let browser;

before(async () => {
  server = await serve(`${ROOT}dist/`, '/lab/');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function open(query, errors) {
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 720 } });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}${query}`);
  await page.getByRole('heading', { name: 'How likely is collapse?' }).waitFor();
  return page;
}

const done = (page) =>
  page.waitForFunction(() => document.querySelector('.explore-status[data-done]') && !document.querySelector('.map-cell.pending'), null, { timeout: 180_000 });

async function mapCsv(page) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
  return readFileSync(await download.path(), 'utf8');
}

/** The map's cells: collapse probability by cell number, from the CSV. */
function collapseByCell(csv) {
  const rows = csv.trim().split('\n').filter((l) => !l.startsWith('#'));
  const header = rows[0].split(',');
  const p = header.indexOf('collapse_probability');
  return rows.slice(1).map((r) => Number(r.split(',')[p]));
}

test('a stability map fills in cell by cell with the CLI\'s numbers, a fix moves its boundary, and a cell opens its replay as a link', async () => {
  const errors = [];
  const page = await open('?s=retry-storm&whatif=1', errors);
  // Every state of the map the page shows, as (cells pending)/(cells).
  await page.evaluate(() => {
    window.mapStates = new Set();
    new MutationObserver(() => {
      const cells = document.querySelectorAll('.map-cell').length;
      if (cells) window.mapStates.add(`${document.querySelectorAll('.map-cell.pending').length}/${cells}`);
    }).observe(document.body, { subtree: true, childList: true, attributes: true });
  });
  await page.getByRole('button', { name: 'Stability map' }).click();
  await done(page);
  assert.equal(await page.locator('.map-cell').count(), 100, 'a 10 × 10 map to start with');
  // Filled in progressively: the page showed the map all pending, then partly computed, then whole.
  const states = await page.evaluate(() => [...window.mapStates]);
  assert.ok(states.includes('100/100') && states.includes('0/100'), `states seen: ${states}`);
  assert.ok(states.some((s) => /^[1-9]\d?\/100$/.test(s)), `states seen: ${states}`);
  await page.getByLabel('Grid').selectOption('5');
  await done(page);
  assert.equal(await page.locator('.map-cell').count(), 25);
  assert.equal(await page.locator('.map-cell.pending').count(), 0);
  const csv = await mapCsv(page);
  assert.equal(csv, cli(['sweep', 'retry-storm', '--steps', '5', '--seeds', '4']), 'the browser\'s map is the CLI\'s sweep, cell for cell');
  const without = collapseByCell(csv);
  assert.equal(without[0], 0, 'light load, short crash: recovers');
  assert.equal(without[24], 1, 'heavy load, long crash: collapses');
  // The ring marks this run (70 req/s, back at 11 s).
  assert.match(await page.locator('.map-marker title').textContent(), /70.*11/);

  // Jitter in the map: the same numbers as `--fix jitter`, fewer cells collapse, and the cells
  // that collapsed without it are outlined.
  await page.getByRole('checkbox', { name: 'jitter' }).check();
  await done(page);
  const jittered = await mapCsv(page);
  assert.equal(jittered, cli(['sweep', 'retry-storm', '--steps', '5', '--seeds', '4', '--fix', 'jitter']));
  const collapsed = (cells) => cells.filter((p) => p > 0.5).length;
  assert.ok(collapsed(collapseByCell(jittered)) < collapsed(without), 'jitter shrinks the collapse region');
  assert.equal(await page.locator('.map-cell.was-collapse').count(), without.filter((p) => p >= 0.5).length);

  // A cell opens its replay: the parameters and the map's fixes are in the link.
  await page.locator('.map-cell[data-cell="24"]').click();
  await page.waitForFunction(() => location.search.includes('set='));
  const url = new URL(page.url());
  assert.deepEqual(url.searchParams.getAll('set').join(',').split(',').sort(), ['clients.users.rate_rps@95', 'timeline.1.at_s@40']);
  assert.match(url.searchParams.get('fix') ?? '', /jitter/);
  // One of the cell's own seeds (1 to 4), not the player's.
  assert.ok(['1', '2', '3', '4'].includes(await page.getByRole('spinbutton', { name: 'Seed' }).inputValue()));
  assert.match(await page.locator('.what-if-row.changed output').first().textContent(), /95 req\/s/);
  // The map stays as computed; the ring moves to the cell.
  assert.equal(await page.locator('.map-cell.pending').count(), 0);
  assert.match(await page.locator('.map-marker title').textContent(), /95.*40/);
  // That link, opened afresh, is the same configuration.
  const again = await browser.newPage();
  await again.goto(page.url());
  await again.getByRole('heading', { name: 'What if' }).waitFor();
  assert.match(await again.locator('.what-if-row.changed output').first().textContent(), /95 req\/s/);
  await again.close();
  assert.deepEqual(errors, []);
  await page.close();
});

test('the map by keyboard: arrows move a cursor that is read out, Enter replays the cell; axe finds nothing', async () => {
  const errors = [];
  const page = await open('?s=retry-storm&whatif=1', errors);
  await page.getByRole('button', { name: 'Stability map' }).click();
  await page.getByLabel('Grid').selectOption('5');
  await done(page);
  await page.locator('.stability-map').focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowUp');
  const said = await page.locator('.explore-map [aria-live]').textContent();
  assert.match(said, /requests per second \(req\/s\) 62\.5, Server A is back at \(s\) 14\.5: collapse \d+% of 4 seeds/);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => location.search.includes('set='));
  assert.deepEqual(new URL(page.url()).searchParams.getAll('set').join(',').split(',').sort(), ['clients.users.rate_rps@62.5', 'timeline.1.at_s@14.5']);
  // The axes are editable: another parameter up, a narrower range across; the CLI's sweep with
  // the same --param gives the same cells. The crash's end, set by the cell replayed above, stays
  // as set (a one-value axis), as the open configuration has it.
  await page.getByLabel('Up: parameter').selectOption({ label: 'Client timeout per attempt' });
  await done(page);
  const across = page.locator('.map-axis').first();
  await across.getByLabel('from').fill('60');
  await across.getByLabel('from').press('Tab');
  await done(page);
  await across.getByLabel('to').fill('90');
  await across.getByLabel('to').press('Tab');
  await done(page);
  assert.equal(
    await mapCsv(page),
    cli(['sweep', 'retry-storm', '--param', 'timeline.1.at_s=14.5..14.5:1', '--param', 'clients.users.rate_rps=60..90:5', '--param', 'clients.users.timeout_ms=250..3000:5', '--seeds', '4']),
  );
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.addScriptTag({ path: AXE });
    const violations = await page.evaluate(async () => {
      const result = await window.axe.run('.explore', { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
      return result.violations.map((v) => `${v.id}: ${v.nodes.length}`);
    });
    assert.deepEqual(violations, [], scheme);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('many seeds: the distribution with and without the fixes, the CLI\'s figures, and a seed opens its replay', async () => {
  const errors = [];
  const page = await open('?s=retry-storm&fix=jitter&whatif=1', errors);
  await page.getByRole('button', { name: 'Run 32 seeds' }).click();
  await done(page);
  assert.match(await page.locator('.explore-status').textContent(), /^64 runs in/);
  const columns = page.locator('.explore-column');
  assert.equal(await columns.count(), 2);
  assert.equal(await columns.nth(0).locator('h3').textContent(), 'Without fixes');
  assert.equal(await columns.nth(1).locator('h3').textContent(), 'With jitter');
  // The CLI's one-cell sweep of the same configuration, 32 seeds.
  const figures = (fix) => {
    const args = ['sweep', 'retry-storm', '--param', 'clients.users.rate_rps=70..70:1', '--seeds', '32'];
    const rows = cli(fix ? [...args, '--fix', fix] : args).trim().split('\n');
    const [header, row] = [rows[2].split(','), rows[3].split(',')];
    return Object.fromEntries(header.map((h, i) => [h, Number(row[i])]));
  };
  for (const [i, fix] of [[0, null], [1, 'jitter']]) {
    const cli = figures(fix);
    const text = await columns.nth(i).locator('.explore-figures').textContent();
    assert.match(text, new RegExp(`Outage${Math.round((100 * cli.degraded) / 32)}% of seeds`), text);
    assert.match(text, new RegExp(`Collapse${Math.round(100 * cli.collapse_probability)}% of seeds`), text);
    const outage = cli.outage_s_mean < 90 ? `${Math.round(cli.outage_s_mean)} s` : `${(cli.outage_s_mean / 60).toFixed(1)} min`;
    assert.ok(text.includes(`Mean outage${outage}`), `${text} vs ${outage}`);
  }
  // Without fixes every seed collapses; with jitter none does.
  assert.match(await columns.nth(0).textContent(), /Collapse100% of seeds/);
  assert.match(await columns.nth(1).textContent(), /Collapse0% of seeds/);
  // A seed opens its replay, with the column's fixes.
  await columns.nth(1).getByText('Each seed (replay one)').click();
  await columns.nth(1).getByRole('button', { name: /^Seed 7: / }).click();
  await page.waitForFunction(() => new URLSearchParams(location.search).get('seed') === '7');
  assert.match(new URL(page.url()).searchParams.get('fix') ?? '', /jitter/);
  assert.equal(await page.getByRole('spinbutton', { name: 'Seed' }).inputValue(), '7');
  assert.deepEqual(errors, []);
  await page.close();
});
