// Browser benchmark: in headless Chromium on this machine, prints (1) page load to interactive
// gallery and click-to-first-chart times, (2) simulation events per second in wasm, (3) frame
// time p50/p95 (and the longest main-thread task) while playing the largest scenario at top
// speed. Usage: node tests/e2e/bench.mjs [SCENARIO_ID] (after `trunk build --release`).
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { serve } from './server.mjs';
import { launch } from './browser.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const id = process.argv[2] ?? 'retry-storm';
const title = /^title\s*=\s*"([^"]*)"/m.exec(
  readFileSync(fileURLToPath(new URL(`../../scenarios/${id}.toml`, import.meta.url)), 'utf8'),
)[1];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const server = await serve(DIST, '/bench/');
const browser = await launch();
const results = { scenario: id };
try {
  // 1. Load and first chart, median of 5 fresh pages.
  const loads = [];
  const charts = [];
  for (let i = 0; i < 5; i++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    await page.goto(server.url);
    await page.getByRole('button', { name: `Open ${title}` }).waitFor();
    loads.push(await page.evaluate(() => performance.now()));
    const clicked = await page.evaluate(() => performance.now());
    await page.getByRole('button', { name: `Open ${title}` }).click();
    await page.getByRole('button', { name: 'Play' }).click();
    await page.waitForFunction(() => {
      const c = document.querySelector('canvas[aria-label="Request rates"]');
      if (!c || c.width === 0) return false;
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      for (let j = 4; j < d.length; j += 4 * 97) if (d[j] !== d[0]) return true;
      return false;
    });
    charts.push((await page.evaluate(() => performance.now())) - clicked);
    await page.close();
  }
  results.load_to_gallery_ms = Math.round(median(loads));
  results.click_to_first_chart_ms = Math.round(median(charts));
  results.load_to_first_chart_ms = Math.round(median(loads) + median(charts));

  // 2. Events per second in wasm (the page runs the scenario three times itself).
  const page = await browser.newPage();
  await page.goto(`${server.url}?bench=${id}`);
  const wasm = JSON.parse(await page.locator('#bench-result').textContent());
  if (wasm.error) throw new Error(wasm.error);
  Object.assign(results, {
    wasm_events: wasm.events,
    wasm_events_per_s: wasm.events_per_s,
    wasm_sim_s_per_wall_s: wasm.sim_s_per_wall_s,
  });
  await page.close();

  // 3. Frame times while playing at the top speed.
  const player = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await player.goto(server.url);
  await player.getByRole('button', { name: `Open ${title}` }).click();
  await player.getByLabel('Speed').selectOption({ index: (await player.getByLabel('Speed').locator('option').count()) - 1 });
  await player.evaluate(() => {
    window.__frames = [];
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
    }).observe({ type: 'longtask', buffered: false });
    let last = performance.now();
    const tick = (t) => {
      window.__frames.push(t - last);
      last = t;
      if (window.__frames.length < 100000) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await player.getByRole('button', { name: 'Play' }).click();
  await player.waitForTimeout(5000);
  const { frames, longest } = await player.evaluate(() => ({ frames: window.__frames.slice(5), longest: window.__longest }));
  results.frames = frames.length;
  results.frame_p50_ms = Number(pct(frames, 0.5).toFixed(1));
  results.frame_p95_ms = Number(pct(frames, 0.95).toFixed(1));
  results.longest_task_ms = Math.round(longest);
  await player.close();
} finally {
  await browser.close();
  await server.close();
}
console.log(JSON.stringify(results, null, 2));
