// End-to-end: the built site (dist/) in real headless Chromium, as a user sees it. For every
// bundled scenario: open it from the gallery, play, step through the beats, seek forwards and
// backwards, toggle each fix and watch the charts and the verdict change; no console errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { serve } from './server.mjs';
import { launch, openPage, drawnPixels, waitCaughtUp, cli } from './browser.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const SCENARIOS = fileURLToPath(new URL('../../scenarios/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Where the run leaves its screenshots of each scenario mid-incident (desktop, phone, embed). */
const SHOTS = `${ROOT}target/screenshots/`;

let server;
let browser;

/** Titles of the bundled scenarios, read from the files the build bundled. */
const titles = readdirSync(SCENARIOS)
  .filter((f) => f.endsWith('.toml') && f !== 'glossary.toml')
  .sort()
  .map((f) => {
    const text = readFileSync(SCENARIOS + f, 'utf8');
    return { id: f.replace(/\.toml$/, ''), title: /^title\s*=\s*"([^"]*)"/m.exec(text)[1] };
  });
/** E2E_ONLY=id,id limits the per-scenario replays (for quick local runs). */
const only = process.env.E2E_ONLY?.split(',');

before(async () => {
  server = await serve(DIST, '/some/sub/path/');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** A checksum of a canvas's pixels, to tell whether a chart changed. */
function canvasChecksum(page, name) {
  return page.getByRole('img', { name, exact: true }).evaluate((canvas) => {
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    let sum = 0;
    for (let i = 0; i < data.length; i += 7) sum = (sum * 31 + data[i]) % 1000000007;
    return sum;
  });
}

/** Moves the timeline to a fraction of the run and waits until the replay has caught up. */
async function seekTo(page, fraction) {
  const slider = page.getByRole('slider', { name: 'Timeline' });
  await slider.evaluate((input, f) => {
    input.value = String(Number(input.max) * f);
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }, fraction);
  await waitCaughtUp(page);
}


test('the gallery lists every bundled outage, with no failed requests from a sub-path', async () => {
  const errors = [];
  const failed = [];
  const page = await openPage(browser, server.url, errors);
  page.on('requestfailed', (r) => failed.push(r.url()));
  page.on('response', (r) => r.status() >= 400 && failed.push(`${r.status()} ${r.url()}`));
  await page.getByRole('heading', { name: 'Outages to replay' }).waitFor();
  for (const { title } of titles) {
    await page.getByRole('button', { name: `Replay ${title}` }).waitFor();
  }
  assert.equal(await page.locator('.card').count(), titles.length);
  // Where to start: the primer first, then by difficulty, each card with its length.
  const courses = await page.locator('.card .course').allTextContents();
  assert.match(courses[0], /^Primer: start here/);
  assert.match(await page.locator('.card h3').first().textContent(), /Retry storm/);
  const rank = (c) => ['Primer', 'Intermediate', 'Advanced'].findIndex((l) => c.startsWith(l));
  assert.deepEqual(courses.map(rank), courses.map(rank).sort(), 'cards by difficulty');
  assert.ok(courses.every((c) => /plays in \d+ (s|min)/.test(c)), courses.join(' | '));
  assert.deepEqual(failed, []);
  assert.deepEqual(errors, []);
  await page.close();
});

test("a scenario's file is fetched when opened; a missing or altered file gives a message, not a stuck page", async () => {
  const errors = [];
  const page = await openPage(browser, server.url, errors);
  const fetched = [];
  page.on('request', (r) => r.url().includes('/scenarios/') && fetched.push(new URL(r.url()).pathname));
  await page.getByRole('heading', { name: 'Outages to replay' }).waitFor();
  assert.deepEqual(fetched, [], 'the gallery fetches no scenario file');
  // Missing on the server.
  await page.route('**/scenarios/retry-storm.bin*', (route) => route.fulfill({ status: 404, body: 'gone' }));
  await page.getByRole('button', { name: 'Replay Retry storm after a brief server crash' }).click();
  await page.getByText(/cannot be opened: could not fetch scenarios\/retry-storm\.bin\?v=[0-9a-f]{16} \(the server answered 404\)/).waitFor();
  await page.getByRole('heading', { name: 'Outages to replay' }).waitFor();
  // Another build's file (or one altered on the way).
  await page.unroute('**/scenarios/retry-storm.bin*');
  await page.route('**/scenarios/retry-storm.bin*', async (route) => {
    const response = await route.fetch();
    const body = Buffer.from(await response.body());
    body[body.length - 1] ^= 1;
    await route.fulfill({ response, body });
  });
  await page.getByRole('button', { name: 'Replay Retry storm after a brief server crash' }).click();
  await page.getByText(/not the one this page was built with: reload the page/).waitFor();
  // The real file opens.
  await page.unroute('**/scenarios/retry-storm.bin*');
  await page.getByRole('button', { name: 'Replay Retry storm after a brief server crash' }).click();
  await page.getByRole('heading', { level: 2, name: /Retry storm/ }).waitFor();
  assert.ok(fetched.every((p) => p.endsWith('/scenarios/retry-storm.bin')), fetched.join(' '));
  assert.deepEqual(errors.filter((e) => !/404/.test(e)), []);
  await page.close();
});

for (const { id, title } of titles.filter((t) => !only || only.includes(t.id))) {
  test(`replay ${id}: play, beats, seek both ways, every fix`, async () => {
    const errors = [];
    const page = await openPage(browser, server.url, errors);
    await page.getByRole('button', { name: `Replay ${title}` }).click();
    await page.getByRole('heading', { name: title }).waitFor();
    // Opening moves the focus to the scenario's heading (the scenario's file is fetched first).
    await page.waitForFunction(() => document.activeElement?.matches('h2'));

    // Play a little with the keyboard, then pause with the button.
    await page.keyboard.press('Space');
    await page.getByRole('button', { name: 'Pause' }).waitFor();
    await page.waitForTimeout(400);
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
    assert.ok((await drawnPixels(page, 'canvas[aria-label="What happened to requests"]')) > 2_000, 'rates chart drawn');

    // Step through the beats: each becomes the highlighted one and its caption shows.
    const beats = page.locator('.beats .beat');
    const count = await beats.count();
    assert.ok(count >= 5, `${count} beats`);
    await page.getByRole('button', { name: 'Reset' }).click();
    const highlighted = () =>
      beats.evaluateAll((items) => items.findIndex((li) => li.getAttribute('aria-current') === 'step'));
    // At the start no beat is current unless the first one is at 0:00.
    const start = await highlighted();
    for (let i = start + 1; i < count; i++) {
      await page.getByRole('button', { name: 'Next beat' }).click();
      await waitCaughtUp(page);
      await page.locator('.beats .beat[aria-current="step"]').nth(0).waitFor();
      assert.equal(await highlighted(), i, `beat ${i} highlighted`);
    }
    const caption = await page.locator('.current-caption').textContent();
    assert.ok(caption.length > 20, 'a caption is shown');

    // Seek to the end, then back to a quarter: the clock follows and the chart redraws.
    await seekTo(page, 1);
    const endClock = await page.locator('.timeline-clock strong').textContent();
    const before = await canvasChecksum(page, 'What happened to requests');
    await seekTo(page, 0.25);
    const quarterClock = await page.locator('.timeline-clock strong').textContent();
    assert.notEqual(quarterClock, endClock, 'seeking backwards moves the clock');
    assert.notEqual(await canvasChecksum(page, 'What happened to requests'), before, 'the chart shows the earlier moment');
    await seekTo(page, 1);
    assert.match(await page.locator('.verdict-text').textContent(), /recover|outage|degraded|early/);

    // Each fix, from the start: the run is rebuilt, the chart changes, a verdict is given.
    const switches = page.locator('.fix input[role="switch"]');
    const fixes = await switches.count();
    assert.ok(fixes >= 1, 'the scenario has fixes');
    for (let i = 0; i < fixes; i++) {
      const plain = await canvasChecksum(page, 'What happened to requests');
      await switches.nth(i).check();
      await waitCaughtUp(page);
      await page.getByText('With fixes:').waitFor();
      await page.getByText('As it happened:').waitFor();
      assert.notEqual(await canvasChecksum(page, 'What happened to requests'), plain, `fix ${i} changes the chart`);
      await switches.nth(i).uncheck();
      await waitCaughtUp(page);
    }
    assert.deepEqual(errors, []);
    await page.close();
  });
}

test('a fix applied mid-run forks the run and the verdict says so', async () => {
  const errors = [];
  const page = await openPage(browser, server.url, errors);
  await page.getByRole('button', { name: 'Replay Retry storm after a brief server crash' }).click();
  await seekTo(page, 10 / 60);
  await page.getByRole('button', { name: 'Apply now: honor-timeout' }).click();
  await page.getByText(/Applied mid-run: honor-timeout from/).waitFor();
  await seekTo(page, 1);
  assert.match(await page.locator('.verdict-text').textContent(), /recovered at/);
  assert.match(await page.locator('.verdicts').textContent(), /As it happened: did not recover/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('runs are computed ahead of the playhead: jump to the end, then seek anywhere at once', async () => {
  const errors = [];
  const page = await openPage(browser, server.url, errors);
  await page.getByRole('button', { name: 'Replay An OR query loses its indexes: auth-token cache stampede in the US region' }).click();
  await page.getByRole('button', { name: 'Jump to end' }).click();
  await waitCaughtUp(page);
  await page.waitForFunction(() => !/computed \d+%/.test(document.querySelector('.timeline-clock').textContent));
  const band = await page.locator('.timeline-track .computed').evaluate((el) => el.style.width);
  assert.equal(parseFloat(band), 100, 'the progress band covers the whole run');
  // Inside the computed range a seek needs no computing: no "computing up to" status appears.
  for (const f of [0.1, 0.8, 0.35, 0.6]) {
    const slider = page.getByRole('slider', { name: 'Timeline' });
    await slider.evaluate((input, f) => {
      input.value = String(Number(input.max) * f);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }, f);
    assert.equal(await page.locator('.timeline [role=status]').count(), 0, `seek to ${f} is instant`);
  }
  assert.deepEqual(errors, []);
  await page.close();
});

test('every fix that moves an operator action applies now, and the fork is the CLI\'s --fix-at run', async () => {
  const errors = [];
  const id = 'svix-2023-06-auth-token-stampede';
  for (const at of [710, 1420, 2130]) {
    const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 720 } });
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${server.url}?s=${id}&t=${at}`);
    await waitCaughtUp(page);
    await page.getByRole('button', { name: 'Apply now: single-flight' }).click();
    await page.getByText(/Applied mid-run: single-flight from/).waitFor();
    assert.equal(await page.locator('.fix-error').count(), 0, 'no refusal');
    await seekTo(page, 1);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download data (CSV)' }).click()]);
    const web = readFileSync(await csv.path(), 'utf8');
    const fromCli = cli(['run', id, '--fix-at', `single-flight@${at}s`, '--format', 'csv']);
    assert.equal(web, fromCli, `single-flight applied at ${at} s`);
    await page.close();
  }
  assert.deepEqual(errors, []);
});

test('every fix of every scenario can be applied now at three moments of its run, as the CLI\'s --fix-at run', async () => {
  const errors = [];
  for (const { id } of titles) {
    if (only && !only.includes(id)) continue;
    const text = readFileSync(`${SCENARIOS}${id}.toml`, 'utf8');
    const duration = Number(/^duration_s\s*=\s*([0-9.]+)/m.exec(text)[1]);
    const fixes = [...text.matchAll(/^\[fixes\.([a-z0-9-]+)\]/gm)].map((m) => m[1]);
    for (const fraction of [0.25, 0.5, 0.75]) {
      const at = Math.round(duration * fraction);
      const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 720 } });
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${server.url}?s=${id}&t=${at}`);
      await waitCaughtUp(page);
      for (const fix of fixes) {
        await page.getByRole('button', { name: `Apply now: ${fix}` }).click();
        await waitCaughtUp(page);
        assert.equal(await page.locator('.fix-error').count(), 0, `${id}: ${fix} at ${at} s is refused`);
      }
      const applied = await page.locator('.fixes').textContent();
      for (const fix of fixes) assert.ok(applied.includes(`${fix} from`), `${id}: ${fix} listed as applied at ${at} s`);
      // The forked run, computed to its end, is the CLI's run with every fix applied at that moment.
      await seekTo(page, 1);
      const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download data (CSV)' }).click()]);
      const web = readFileSync(await csv.path(), 'utf8');
      const fromCli = cli(['run', id, ...fixes.flatMap((fix) => ['--fix-at', `${fix}@${at}s`]), '--format', 'csv']);
      assert.equal(web, fromCli, `${id}: every fix applied at ${at} s`);
      await page.close();
    }
  }
  assert.deepEqual(errors, []);
});

test('the keyboard help lists the shortcuts and Escape closes it', async () => {
  const errors = [];
  const page = await openPage(browser, server.url, errors);
  await page.getByRole('button', { name: 'Replay Retry storm after a brief server crash' }).click();
  // The scenario's file is fetched when it is opened: keys act once the player is there.
  await page.getByRole('heading', { level: 2, name: /Retry storm/ }).waitFor();
  await page.keyboard.press('?');
  const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
  await dialog.waitFor();
  assert.match(await dialog.textContent(), /Space.*Play or pause/);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await page.close();
});

test('keyboard: opening focuses the heading, Space presses the focused button, help is a modal dialog', async () => {
  const errors = [];
  const page = await openPage(browser, server.url, errors);
  await page.getByRole('button', { name: 'Replay Retry storm after a brief server crash' }).click();
  await page.waitForFunction(() => document.activeElement?.matches('h2') && /Retry storm/.test(document.activeElement.textContent));
  // The story opens as a teaser; the rest is one click away.
  const story = page.locator('.story details');
  assert.equal(await story.evaluate((d) => d.open), false);
  await page.getByText('Read the whole story').click();
  assert.equal(await story.evaluate((d) => d.open), true);
  // Space on a focused Step button steps; it does not start playback.
  const clock = () => page.locator('.timeline-clock strong').textContent();
  const before = await clock();
  await page.getByRole('button', { name: 'Step forward' }).focus();
  await page.keyboard.press('Space');
  await page.waitForFunction((b) => document.querySelector('.timeline-clock strong').textContent !== b, before);
  await page.waitForTimeout(300);
  assert.ok(await page.getByRole('button', { name: 'Play', exact: true }).isVisible(), 'still paused after Space on Step');
  // Help is a modal dialog: focus moves into it and Tab never reaches the page behind.
  await page.keyboard.press('?');
  const dialog = page.locator('dialog[open]');
  await dialog.waitFor();
  for (let i = 0; i < 6; i++) {
    await page.keyboard.press('Tab');
    const outside = await page.evaluate(() => {
      const a = document.activeElement;
      return a && a !== document.body && !a.closest('dialog') ? a.outerHTML.slice(0, 80) : null;
    });
    assert.equal(outside, null, 'Tab left the dialog');
  }
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await page.close();
});

/** A moment inside each outage (s) and the tier whose failure it is about there, which the system
 * view must not show green. */
const OUTAGE_MOMENT = {
  'airtame-2020-02-table-scan-reconnect': [20000, 'db'],
  'ovice-2021-12-echo-herd': [6000, 'echo-1'],
  'ovice-2022-07-slow-calendar-endpoint': [600, 'api'],
  'ovice-2022-08-03-error-flood': [900, 'cpu-a'],
  'ovice-2022-08-08-db-cpu': [600, 'mysql'],
  'ovice-2022-08-23-unbounded-users': [741, 'api'],
  'retry-storm': [30, 'server-b'],
  'showmax-2019-10-health-check-cache': [2400, 'elasticsearch'],
  'svix-2023-06-auth-token-stampede': [1500, 'pg'],
};

/** The beats of a scenario file: time, watched series and highlight (each on one line). */
function beatsOf(id) {
  const text = readFileSync(`${SCENARIOS}${id}.toml`, 'utf8');
  return text.split('[[beats]]').slice(1).map((block) => ({
    at: Number(block.match(/^at_s = ([\d.]+)/m)[1]),
    watch: block.match(/^watch = "([^"]*)"/m)?.[1] ?? '',
    highlight: JSON.parse(block.match(/^highlight = (\[.*\])/m)?.[1] ?? '[]'),
  }));
}

/** The chart title a scenario file gives a series, if any. */
function seriesLabel(id, series) {
  const text = readFileSync(`${SCENARIOS}${id}.toml`, 'utf8');
  return text.match(new RegExp(`^series_labels\\."${series.replace(/\./g, '\\.')}" = "([^"]*)"`, 'm'))?.[1];
}

/** Components the scenario file declares (each is a node of the system view). */
function componentCount(id) {
  const text = readFileSync(`${SCENARIOS}${id}.toml`, 'utf8');
  const headers = text.match(/^\[(clients|http_caches|load_balancers|services|caches|datastores|dependencies)\.[^\].]+\]/gm);
  return new Set(headers).size;
}

for (const { id } of titles) {
  if (only && !only.includes(id)) continue;
  test(`${id} mid-outage: system view and charts fit desktop and phone, the failing tier is marked`, async () => {
    const [at, failingTier] = OUTAGE_MOMENT[id];
    for (const [width, height] of [[1280, 720], [390, 844]]) {
      const errors = [];
      const page = await browser.newPage({ viewport: { width, height } });
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${server.url}?s=${id}&t=${at}`);
      await page.locator('.topology svg').first().waitFor({ state: 'attached' });
      await waitCaughtUp(page);
      const view = await page.evaluate(() => {
        const boxes = [...document.querySelectorAll('.topology, .charts > figure')];
        const overflowing = boxes.filter((b) => b.scrollWidth > b.clientWidth + 1).map((b) => b.querySelector('figcaption')?.textContent);
        const svg = [...document.querySelectorAll('.topology svg')].find((s) => s.getBoundingClientRect().width > 0);
        const frame = svg.getBoundingClientRect();
        const nodes = [...svg.querySelectorAll('[data-node]')].map((g) => {
          const r = g.getBoundingClientRect();
          return { name: g.dataset.node, state: g.dataset.state, inside: r.width > 0 && r.left >= frame.left - 1 && r.right <= frame.right + 1 };
        });
        return { overflowing, nodes, wider: frame.width - svg.parentElement.clientWidth };
      });
      const where = `${id} at ${at} s, ${width}×${height}`;
      assert.deepEqual(view.overflowing, [], `${where}: boxes wider than their panel`);
      assert.ok(view.wider <= 1, `${where}: the diagram is ${view.wider}px wider than its box`);
      assert.equal(view.nodes.length, componentCount(id), `${where}: every component is drawn`);
      assert.deepEqual(view.nodes.filter((n) => !n.inside).map((n) => n.name), [], `${where}: nodes outside the view`);
      const tier = view.nodes.find((n) => n.name === failingTier);
      assert.ok(['failing', 'down', 'saturated'].includes(tier?.state), `${where}: ${failingTier} is ${tier?.state}`);
      // The loop of the beat in force is highlighted; the chart it says to watch is marked.
      const beat = beatsOf(id).filter((b) => b.at <= at).sort((a, b) => a.at - b.at).pop();
      const shown = await page.evaluate(() => {
        const svg = [...document.querySelectorAll('.topology svg')].find((s) => s.getBoundingClientRect().width > 0);
        return {
          nodes: [...svg.querySelectorAll('.node.lit')].map((g) => g.dataset.node).sort(),
          links: [...svg.querySelectorAll('.link.lit')].map((g) => g.dataset.link).sort(),
          flows: [...svg.querySelectorAll('.flow')].map((l) => [l.classList[1], getComputedStyle(l).animationName]),
          watched: [...document.querySelectorAll('.chart.watched figcaption')].map((c) => c.textContent),
        };
      });
      assert.deepEqual(shown.nodes, beat.highlight.filter((h) => !h.includes('->')).sort(), `${where}: highlighted components`);
      assert.deepEqual(shown.links, beat.highlight.filter((h) => h.includes('->')).sort(), `${where}: highlighted calls`);
      // Requests move along the links, and some of them fail: customers feel the outage.
      assert.ok(shown.flows.length > 0 && shown.flows.every(([, animation]) => animation === 'flow'), `${where}: moving requests ${JSON.stringify(shown.flows)}`);
      assert.ok(shown.flows.some(([outcome]) => outcome !== 'success'), `${where}: no failing requests drawn ${JSON.stringify(shown.flows)}`);
      // They move while the replay plays, and stand still while it is paused.
      const motion = () => page.evaluate(() => getComputedStyle([...document.querySelectorAll('.topology svg')]
        .find((s) => s.getBoundingClientRect().width > 0).querySelector('.flow')).animationPlayState);
      assert.equal(await motion(), 'paused', `${where}: dots move while paused`);
      if (width > 500) {
        await page.getByRole('button', { name: 'Play', exact: true }).click();
        await page.getByRole('button', { name: 'Pause' }).waitFor();
        assert.equal(await motion(), 'running', `${where}: dots still while playing`);
        await page.getByRole('button', { name: 'Pause' }).click();
        await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
      }
      if (beat.watch) {
        assert.equal(shown.watched.length, 1, `${where}: one chart marked for ${beat.watch}`);
        const label = seriesLabel(id, beat.watch);
        const standard = /^(success|error|timeout|shed|offered)_rps$|^p(50|99)_ms$/.test(beat.watch);
        if (label && !standard) assert.ok(shown.watched[0].includes(label), `${where}: ${shown.watched[0]} is not "${label}"`);
      }
      if (width < 500) {
        // On the phone the playback bar stays reachable while a chart is in view.
        await page.locator('.charts canvas').first().scrollIntoViewIfNeeded();
        const together = await page.evaluate(() => {
          const seen = (el) => {
            const r = el.getBoundingClientRect();
            return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
          };
          return seen(document.querySelector('.player > .controls')) && [...document.querySelectorAll('.charts canvas')].some(seen);
        });
        assert.ok(together, `${where}: controls and a chart are not on screen together`);
        const small = await page.evaluate(() =>
          [...document.querySelectorAll('.player button, .player select, .player input, .player summary')]
            .filter((el) => el.getBoundingClientRect().height > 0 && el.type !== 'checkbox' && el.type !== 'range')
            .filter((el) => el.getBoundingClientRect().height < 44 - 0.5)
            .map((el) => el.textContent.trim() || el.getAttribute('aria-label') || el.tagName));
        assert.deepEqual(small, [], `${where}: controls under 44 px tall`);
      }
      assert.deepEqual(errors, []);
      mkdirSync(SHOTS, { recursive: true });
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: `${SHOTS}${id}-${width < 500 ? 'phone' : 'desktop'}.png` });
      await page.close();
    }
    // The same moment as an embed in a 480×270 frame.
    const embed = await browser.newPage({ viewport: { width: 480, height: 270 } });
    await embed.goto(`${server.url}?s=${id}&t=${at}&embed=1`);
    await embed.locator('.chart canvas').first().waitFor();
    await waitCaughtUp(embed);
    await embed.screenshot({ path: `${SHOTS}${id}-embed.png` });
    await embed.close();
  });
}

test('the layout fits a 390 px phone', async () => {
  const errors = [];
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Replay Retry storm after a brief server crash' }).click();
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `page is ${overflow}px wider than the screen`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('charts follow the colour scheme, also when it changes', async () => {
  const errors = [];
  const page = await openPage(browser, server.url, errors);
  await page.getByRole('button', { name: 'Replay Retry storm after a brief server crash' }).click();
  const corner = () =>
    page.locator('canvas[aria-label="What happened to requests"]').evaluate((c) => {
      const [r, g, b] = c.getContext('2d').getImageData(1, 1, 1, 1).data;
      return r + g + b;
    });
  await page.waitForFunction(() => document.querySelector('canvas[aria-label="What happened to requests"]')?.width > 0);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.waitForFunction(() => {
    const c = document.querySelector('canvas[aria-label="What happened to requests"]');
    const [r, g, b] = c.getContext('2d').getImageData(1, 1, 1, 1).data;
    return r + g + b > 600;
  });
  assert.ok((await corner()) > 600, 'light background');
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.waitForFunction(() => {
    const c = document.querySelector('canvas[aria-label="What happened to requests"]');
    const [r, g, b] = c.getContext('2d').getImageData(1, 1, 1, 1).data;
    return r + g + b < 200;
  });
  assert.ok((await corner()) < 200, 'dark background');
  assert.deepEqual(errors, []);
  await page.close();
});

const AXE = fileURLToPath(new URL('./node_modules/axe-core/axe.min.js', import.meta.url));

/** axe-core's WCAG 2.1 A and AA violations on the page as it is: rule, then a few nodes. */
async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    });
    return result.violations.map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => `${n.target.join(' ')} (${n.failureSummary.replace(/\s+/g, ' ')})`).join('; ')}`);
  });
}

test('axe-core finds no WCAG 2.1 A/AA violations, light and dark: gallery, player mid-outage, phone, embed', async () => {
  const pages = [
    ['gallery', 1280, 720, ''],
    ['player', 1280, 720, '?s=svix-2023-06-auth-token-stampede&t=1500'],
    ['phone', 390, 844, '?s=retry-storm&t=30'],
    ['embed', 480, 270, '?s=showmax-2019-10-health-check-cache&t=2400&embed=1'],
  ];
  for (const colorScheme of ['light', 'dark']) {
    for (const [name, width, height, query] of pages) {
      const errors = [];
      const page = await browser.newPage({ viewport: { width, height }, colorScheme });
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${server.url}${query}`);
      if (query) {
        await page.locator('.chart canvas').first().waitFor();
        await waitCaughtUp(page);
      } else {
        await page.locator('.card').first().waitFor();
      }
      assert.deepEqual(await axeViolations(page), [], `${name}, ${colorScheme}`);
      assert.deepEqual(errors, []);
      await page.close();
    }
  }
});
