// Browser benchmark: in headless Chromium on this machine, next to native figures measured in the
// same run, prints
//   1. load to the gallery, to the first chart through the gallery (open, play: Playwright's
//      clicks included), and from navigating to a permalink to its first chart (medians of 5);
//   2. a deep link to the end of the longest-running scenario: time until its charts are complete,
//      as a ratio to the native CLI's time for the same run;
//   3. toggling a fix at the end of Svix: time to the first changed chart and to both runs
//      computed again, as a ratio to the native time;
//   4. seeks inside the computed range: time until the charts show the new moment (p95 of 20);
//   5. frame times (p50/p95) and the longest main-thread task while playing, while toggling each
//      fix on in turn at the end of the run, and while a link with every fix on opens and
//      computes (page start-up included), for every bundled scenario;
//   6. with every fix on and the comparison, per scenario: the peak wasm memory of the page and its
//      workers (as the page reports it), and the peak memory of all the browser's processes;
//   7. the 20×20 stability map of retry-storm, 4 seeds per cell: the page's time to fill it (median
//      of 3) as a ratio to `cascade sweep` on the same grid (median of 3, every core both ways),
//      and the frame times and longest main-thread task while it fills.
// BENCH_MAP_ONLY=1 runs part 7 alone.
// Usage: node tests/e2e/bench.mjs [LONGEST_ID] (after `trunk build --release` and
// `cargo build --release`).
import { fileURLToPath } from 'node:url';
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { serve } from './server.mjs';
import { launch } from './browser.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = `${ROOT}dist/`;
const CLI = `${ROOT}target/release/cascade`;
const SVIX = 'svix-2023-06-auth-token-stampede';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const scenarios = readdirSync(`${ROOT}scenarios/`)
  .filter((f) => f.endsWith('.toml') && f !== 'glossary.toml')
  .sort()
  .map((f) => {
    const text = readFileSync(`${ROOT}scenarios/${f}`, 'utf8');
    const fixes = [...text.matchAll(/^\[fixes\.([a-z0-9-]+)\]/gm)].map((m) => m[1]);
    const duration = Number(/^duration_s\s*=\s*([0-9.]+)/m.exec(text)[1]);
    return { id: f.replace(/\.toml$/, ''), title: /^title\s*=\s*"([^"]*)"/m.exec(text)[1], fixes, duration };
  });

/** Native wall time of one run, ms: median of 3 runs of the CLI (process start included). */
function nativeMs(args) {
  const times = [];
  for (let i = 0; i < 3; i++) {
    const start = process.hrtime.bigint();
    execFileSync(CLI, ['run', ...args, '--format', 'csv'], { maxBuffer: 1 << 28 });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return median(times);
}

/** Resident memory of a process and all its descendants, bytes. */
function treeRss(pid) {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid=,rss='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/).map(Number));
  const children = new Map();
  for (const [p, pp] of rows) children.set(pp, [...(children.get(pp) ?? []), p]);
  const rss = new Map(rows.map(([p, , r]) => [p, r]));
  let total = 0;
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    total += (rss.get(p) ?? 0) * 1024;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

/** Waits until both runs are computed to the playhead and no computing status shows. */
async function computed(page, timeout = 300_000) {
  await page.waitForFunction(
    () => {
      const band = document.querySelector('.timeline-track .computed');
      return band && parseFloat(band.style.width) >= 99.999 && !document.querySelector('.timeline [role=status]');
    },
    null,
    { timeout, polling: 'raf' },
  );
}

const checksum = (page) =>
  page.evaluate(() => {
    const c = document.querySelector('canvas[aria-label="What happened to requests"]');
    const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
    let sum = 0;
    for (let i = 0; i < data.length; i += 7) sum = (sum * 31 + data[i]) % 1000000007;
    return sum;
  });

async function watchFrames(page) {
  await page.evaluate(() => {
    window.__frames = [];
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
    }).observe({ type: 'longtask', buffered: false });
    let last = performance.now();
    const tick = (t) => {
      window.__frames.push(t - last);
      last = t;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}

async function frameFigures(page) {
  const { frames, longest } = await page.evaluate(() => {
    const result = { frames: window.__frames.slice(3), longest: window.__longest };
    window.__frames = [];
    window.__longest = 0;
    return result;
  });
  return { frame_p50_ms: Number(pct(frames, 0.5).toFixed(1)), frame_p95_ms: Number(pct(frames, 0.95).toFixed(1)), longest_task_ms: Math.round(longest) };
}

/** In the page: whether the request-rate chart has anything drawn on it. */
function chartDrawn() {
  const c = document.querySelector('canvas[aria-label="What happened to requests"]');
  if (!c || c.width === 0) return false;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let j = 4; j < d.length; j += 4 * 97) if (d[j] !== d[0]) return true;
  return false;
}

const longest = process.argv[2] ?? [...scenarios].sort((a, b) => b.duration - a.duration)[0].id;
const server = await serve(DIST, '/bench/');
const browser = await launch();
// Chromium runs as a child of this process: the tree's memory less this process's own.
const pid = process.pid;
const browserRss = () => treeRss(pid) - process.memoryUsage().rss;
const results = {};

/** Part 7: the stability map, browser ÷ CLI. */
async function mapBench() {
  const native = [];
  for (let i = 0; i < 3; i++) {
    const start = process.hrtime.bigint();
    execFileSync(CLI, ['sweep', 'retry-storm', '--steps', '20', '--seeds', '4'], { maxBuffer: 1 << 28 });
    native.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const browserMs = [];
  let figures;
  for (let i = 0; i < 3; i++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`${server.url}?s=retry-storm&whatif=1`);
    await page.getByRole('button', { name: 'Stability map' }).waitFor();
    // The 10×10 map the button opens on, then the 20×20 one, timed from the page's own clock.
    await page.getByRole('button', { name: 'Stability map' }).click();
    await page.waitForSelector('.explore-status[data-done]', { timeout: 300_000 });
    await watchFrames(page);
    await page.getByLabel('Grid').selectOption('20');
    await page.waitForFunction(() => document.querySelectorAll('.map-cell').length === 400 && document.querySelector('.explore-status[data-done]'), null, { timeout: 300_000 });
    browserMs.push(Number(await page.locator('.explore-status').getAttribute('data-elapsed-ms')));
    figures = await frameFigures(page);
    await page.close();
  }
  const cores = await (async () => {
    const page = await browser.newPage();
    const n = await page.evaluate(() => navigator.hardwareConcurrency);
    await page.close();
    return n;
  })();
  results.stability_map = {
    grid: '20x20, 4 seeds per cell, retry-storm',
    workers: Math.min(cores, 8),
    native_sweep_ms: Math.round(median(native)),
    browser_ms: Math.round(median(browserMs)),
    browser_ms_runs: browserMs.map(Math.round),
    ratio_to_native: Number((median(browserMs) / median(native)).toFixed(2)),
    while_filling: figures,
  };
}

try {
  if (process.env.BENCH_MAP_ONLY) {
    await mapBench();
    throw 'done';
  }
  // 1. Load and first chart.
  const loads = [];
  const charts = [];
  const first = scenarios.find((s) => s.id === 'retry-storm') ?? scenarios[0];
  for (let i = 0; i < 5; i++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(server.url);
    await page.getByRole('button', { name: `Replay ${first.title}` }).waitFor();
    loads.push(await page.evaluate(() => performance.now()));
    await page.getByRole('button', { name: `Replay ${first.title}` }).click();
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await page.waitForFunction(chartDrawn, null, { polling: 'raf' });
    charts.push(await page.evaluate(() => performance.now()));
    await page.close();
  }
  // A permalink into the middle of the run: from navigation to its first chart, no clicks.
  const links = [];
  for (let i = 0; i < 5; i++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`${server.url}?s=${first.id}&t=${Math.round(first.duration / 2)}`);
    await page.waitForFunction(chartDrawn, null, { polling: 'raf' });
    links.push(await page.evaluate(() => performance.now()));
    await page.close();
  }
  results.load_to_gallery_ms = Math.round(median(loads));
  results.gallery_open_play_to_first_chart_ms = Math.round(median(charts));
  results.link_to_first_chart_ms = Math.round(median(links));

  // 2. Deep link to the end of the longest-running scenario.
  {
    const s = scenarios.find((x) => x.id === longest);
    const native = nativeMs([s.id]);
    const times = [];
    for (let i = 0; i < 3; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      await page.goto(`${server.url}?s=${s.id}&t=${s.duration}`);
      await computed(page);
      times.push(await page.evaluate(() => performance.now()));
      await page.close();
    }
    results.deep_link = { scenario: s.id, browser_ms: Math.round(median(times)), native_ms: Math.round(native), ratio: Number((median(times) / native).toFixed(2)) };
  }

  // 3. Toggle a fix at the end of Svix.
  {
    const s = scenarios.find((x) => x.id === SVIX);
    const native = Math.max(nativeMs([s.id, '--fix', 'single-flight']), nativeMs([s.id]));
    const firsts = [];
    const wholes = [];
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`${server.url}?s=${s.id}&t=${s.duration}`);
    await computed(page);
    await watchFrames(page);
    for (let i = 0; i < 3; i++) {
      for (const on of [true, false]) {
        const before = await checksum(page);
        const t0 = await page.evaluate(() => performance.now());
        const toggle = page.locator('.fix', { hasText: 'single-flight' }).locator('input[role="switch"]');
        await (on ? toggle.check() : toggle.uncheck());
        await page.waitForFunction(
          (b) => {
            const c = document.querySelector('canvas[aria-label="What happened to requests"]');
            const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
            let sum = 0;
            for (let k = 0; k < data.length; k += 7) sum = (sum * 31 + data[k]) % 1000000007;
            return sum !== b;
          },
          before,
          { polling: 'raf', timeout: 120_000 },
        );
        firsts.push((await page.evaluate(() => performance.now())) - t0);
        await computed(page);
        wholes.push((await page.evaluate(() => performance.now())) - t0);
      }
    }
    results.toggle_fix_at_end = {
      scenario: s.id,
      first_changed_chart_ms: Math.round(median(firsts)),
      both_runs_ms: Math.round(median(wholes)),
      native_ms: Math.round(native),
      ratio: Number((median(wholes) / native).toFixed(2)),
      ...(await frameFigures(page)),
    };

    // 4. Seeks inside the computed range.
    const seeks = [];
    for (let i = 0; i < 20; i++) {
      const f = ((i * 7919) % 97) / 97;
      seeks.push(
        await page.evaluate(async (f) => {
          const input = document.querySelector('input[aria-label="Timeline"]');
          const t0 = performance.now();
          input.value = String(Number(input.max) * f);
          input.dispatchEvent(new Event('input', { bubbles: true }));
          // Two frames: the state changes, then the charts redraw.
          await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
          return performance.now() - t0;
        }, f),
      );
    }
    results.seek_p95_ms = Math.round(pct(seeks, 0.95));
    await page.close();
  }

  // 5 and 6. Every scenario: frames while playing at the top speed; then every fix on with the
  // comparison, computed to the end, and the browser's peak memory meanwhile.
  results.scenarios = [];
  // BENCH_ONLY=id,id limits the per-scenario part (for quick local runs).
  const only = process.env.BENCH_ONLY?.split(',');
  for (const s of scenarios.filter((x) => !only || only.includes(x.id))) {
    const row = { scenario: s.id };
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(`${server.url}?s=${s.id}`);
    await page.getByLabel('Speed').waitFor();
    await page.getByLabel('Speed').selectOption({ index: (await page.getByLabel('Speed').locator('option').count()) - 1 });
    await watchFrames(page);
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await page.waitForTimeout(3000);
    Object.assign(row, { playing: await frameFigures(page) });
    await page.close();

    // Toggling each fix on in turn at the end of the run, each time until both runs are computed.
    const toggling = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await toggling.goto(`${server.url}?s=${s.id}&t=${s.duration}`);
    await computed(toggling);
    await watchFrames(toggling);
    for (const fix of s.fixes) {
      await toggling.locator('.fix', { hasText: fix }).locator('input[role="switch"]').first().check();
      await toggling.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      await computed(toggling);
    }
    Object.assign(row, { toggling_fixes: await frameFigures(toggling) });
    await toggling.close();

    let peak = browserRss();
    const sampler = setInterval(() => {
      peak = Math.max(peak, browserRss());
    }, 100);
    const fixes = s.fixes.map((f) => `fix=${f}`).join('&');
    const full = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await full.goto(`${server.url}?s=${s.id}&${fixes}&t=${s.duration}`);
    await watchFrames(full);
    await computed(full);
    clearInterval(sampler);
    // Wasm memories only grow, so what the page reports at the end is their peak.
    const wasm = Number(await full.locator('.player').getAttribute('data-wasm-memory-bytes'));
    Object.assign(row, {
      opening_with_all_fixes: await frameFigures(full),
      peak_wasm_memory_mb: Math.round(wasm / 1048576),
      peak_browser_rss_mb: Math.round(peak / 1048576),
    });
    await full.close();
    results.scenarios.push(row);
  }
  // 7. The stability map.
  await mapBench();
} catch (e) {
  if (e !== 'done') throw e;
} finally {
  await browser.close();
  await server.close();
  console.log(JSON.stringify(results, null, 2));
}
