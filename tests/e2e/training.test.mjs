// End-to-end: training in the built site. A scripted trainee takes a lesson (right and wrong
// predictions, kept and exported), an on-call drill (paged, acting from the runbook, no way back
// in time, a debrief with the CLI's numbers), and looks terms up in the glossary. The training
// module is loaded from the page's module, from a sub-path.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { serve } from './server.mjs';
import { launch, openPage } from './browser.mjs';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const AXE = fileURLToPath(new URL('./node_modules/axe-core/axe.min.js', import.meta.url));
/** Where the run leaves its screenshots of each training screen (light and dark). */
const SHOTS = `${ROOT}target/screenshots/`;

/** `cascade drill` as JSON, for these arguments (the release binary the test command built). */
function cliDrill(args) {
  const binary = `${ROOT}target/release/cascade`;
  const all = ['drill', ...args, '--format', 'json'];
  const out = existsSync(binary)
    ? execFileSync(binary, all, { encoding: 'utf8' })
    : execFileSync('cargo', ['run', '--release', '--quiet', '--', ...all], { cwd: ROOT, encoding: 'utf8' });
  return JSON.parse(out);
}

let server;
let browser;
before(async () => {
  server = await serve(DIST, '/a/sub/path/');
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

const RETRY = 'Retry storm after a brief server crash';
const SVIX = 'svix-2023-06-auth-token-stampede';

/** The debrief's figures for both runs (exact, from the table's data attributes). */
async function debrief(page) {
  const row = page.locator('.impact tr.yours');
  await row.waitFor({ timeout: 120_000 });
  const read = async (selector) => {
    const r = page.locator(selector);
    return { minutes: Number(await r.getAttribute('data-impact-minutes')), failed: Number(await r.getAttribute('data-failed-requests')) };
  };
  return { yours: await read('.impact tr.yours'), documented: await read('.impact tr.documented') };
}

async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
  });
}

test('a trainee predicts, right and wrong, sees why, and the progress is kept, exported and forgotten', async () => {
  const errors = [];
  const page = await openPage(browser, server.url, errors);
  await page.getByRole('button', { name: `Lesson: ${RETRY}` }).click();
  await page.getByRole('heading', { name: 'Lesson', exact: true }).waitFor({ timeout: 30_000 });
  // Objectives first; the titles of the beats to come are hidden.
  assert.ok(await page.locator('.scenario-head .objectives li').count() >= 1);
  assert.match(await page.locator('.beats').textContent(), /…/);
  await page.getByRole('button', { name: 'Play', exact: true }).click();

  // Question 1, by keyboard only: focus moves to the question, Tab reaches a choice, Enter picks it.
  const ask1 = page.getByRole('heading', { name: 'Predict · question 1 of 3' });
  await ask1.waitFor({ timeout: 30_000 });
  await page.waitForFunction(() => document.activeElement?.id === 'lesson-heading');
  assert.equal(await page.getByRole('button', { name: 'Play', exact: true }).count(), 1, 'the replay waits for the prediction');
  for (let i = 0; i < 12; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(() => document.activeElement?.classList.contains('choice'))) break;
  }
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'stays flat');
  await page.keyboard.press('Enter');
  const wrong = page.getByRole('heading', { name: '✗ Not what happened' });
  await wrong.waitFor({ timeout: 30_000 });
  const card = page.locator('.lesson-card');
  assert.match(await card.textContent(), /You predicted: stays flat/);
  assert.match(await card.textContent(), /What happened: shoots up, faster and faster/);
  // The answer points at the chart and the part of the system that show it.
  await page.locator('.chart .watch-badge, .chart:has-text("Watch now")').first().waitFor();
  assert.ok(await page.locator('.topology .lit, .topology [class*="lit"]').count() > 0, 'the answer highlights the system');
  await page.getByRole('button', { name: 'Continue' }).click();

  // Question 2, the right choice.
  await page.getByRole('heading', { name: 'Predict · question 2 of 3' }).waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'a brief flicker, then almost none' }).click();
  await page.getByRole('heading', { name: '✓ Your prediction held' }).waitFor({ timeout: 30_000 });
  assert.doesNotMatch(await card.textContent(), /What happened:/);
  // The explanation's terms link to the glossary.
  assert.ok((await card.locator('.explanation a.term').allTextContents()).some((t) => /metastable/i.test(t)), 'the explanation links its terms');
  await page.getByRole('button', { name: 'Continue' }).click();

  // Kept in the browser: the gallery scores it, and a new visit asks the next question only.
  await page.getByRole('button', { name: '← All outages' }).click();
  const retryCard = page.locator('.card', { has: page.getByRole('heading', { name: RETRY }) });
  await retryCard.locator('.progress').waitFor();
  assert.equal(await retryCard.locator('.progress').textContent(), 'Lesson: 1 of 2 predictions right');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download my progress (JSON)' }).click(),
  ]);
  const summary = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(summary.cascade_lab_progress, 1);
  const retry = summary.scenarios.find((s) => s.id === 'retry-storm');
  assert.deepEqual(retry.questions, {
    answered: 2,
    right: 1,
    answers: [{ choice: 0, right: false }, { choice: 2, right: true }, null],
  });

  await page.reload();
  await page.getByRole('button', { name: `Lesson: ${RETRY}` }).click();
  await page.getByText('2 of 3 predictions made, 1 right.').waitFor({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Play', exact: true }).click();
  await page.getByRole('heading', { name: 'Predict · question 3 of 3' }).waitFor({ timeout: 30_000 });

  await page.getByRole('button', { name: '← All outages' }).click();
  await page.getByRole('button', { name: 'Forget my progress' }).click();
  await retryCard.locator('.progress').waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a drill with the documented actions at the documented moments ends with the documented impact, the CLI\'s numbers; acting earlier costs less', async () => {
  const errors = [];
  const cli = cliDrill([SVIX]);
  const documented = cli.documented_actions;
  assert.ok(documented.length >= 1);
  const at = (factor) => documented.map((a) => `${a.name}@${Math.round(a.at_s * factor)}`).join(',');
  const page = await openPage(browser, `${server.url}?s=${SVIX}&mode=drill&at=${at(1)}&t=2840`, errors);
  const onTime = await debrief(page);
  const same = cliDrill([SVIX, ...documented.flatMap((a) => ['--action', `${a.name}@${Math.round(a.at_s)}s`])]);
  assert.equal(onTime.yours.minutes, same.yours.impact_minutes);
  assert.equal(onTime.yours.failed, same.yours.failed_requests);
  assert.equal(onTime.documented.minutes, same.documented.impact_minutes);
  assert.equal(onTime.documented.failed, same.documented.failed_requests);
  const tolerance = Number(/impact_tolerance = ([0-9.]+)/.exec(readFileSync(`${ROOT}scenarios/${SVIX}.toml`, 'utf8'))[1]);
  assert.ok(Math.abs(onTime.yours.minutes - onTime.documented.minutes) <= tolerance * onTime.documented.minutes);
  // Both timelines of actions, and the real story, are in the debrief.
  assert.equal(await page.locator('.side-by-side ol.actions').nth(0).locator('li').count(), documented.length);
  assert.equal(await page.locator('.side-by-side ol.actions').nth(1).locator('li').count(), documented.length);
  assert.ok(await page.locator('.real-story li').count() >= 5);

  await page.goto(`${server.url}?s=${SVIX}&mode=drill&at=${at(0.75)}&t=2840`);
  const sooner = await debrief(page);
  const cliSooner = cliDrill([SVIX, ...documented.flatMap((a) => ['--action', `${a.name}@${Math.round(a.at_s * 0.75)}s`])]);
  assert.equal(sooner.yours.minutes, cliSooner.yours.impact_minutes);
  assert.ok(sooner.yours.minutes < onTime.yours.minutes, `${sooner.yours.minutes} < ${onTime.yours.minutes}`);
  // The last debrief is kept in the trainee's progress, and its JSON carries it.
  await page.getByRole('button', { name: '← All outages' }).click();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download my progress (JSON)' }).click(),
  ]);
  const drill = JSON.parse(readFileSync(await download.path(), 'utf8')).scenarios.find((s) => s.id === SVIX).drill;
  assert.equal(drill.impact_minutes.toFixed(1), sooner.yours.minutes.toFixed(1));
  assert.equal(drill.failed_requests, sooner.yours.failed);
  assert.equal(drill.documented_impact_minutes.toFixed(1), sooner.documented.minutes.toFixed(1));
  assert.equal(drill.documented_failed_requests, sooner.documented.failed);
  assert.equal(drill.actions.split(',').length, documented.length);
  assert.deepEqual(errors, []);
  await page.close();
});

test('on call: the story is hidden, an alert pages and waits, a runbook action forks the run, time only goes forwards; the debrief is the CLI\'s', async () => {
  const errors = [];
  const page = await openPage(browser, `${server.url}?s=retry-storm&mode=drill`, errors);
  await page.getByRole('heading', { name: 'On call', exact: true }).waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('.narration').count(), 0, 'no story');
  assert.equal(await page.locator('.story').count(), 0, 'no summary');
  assert.equal(await page.locator('.timeline .marker').count(), 0, 'no beats or operator actions on the timeline');
  assert.equal(await page.locator('.fix-list').count(), 0, 'no fixes with their descriptions');
  assert.ok(await page.locator('.timeline input[type=range]').isDisabled(), 'no scrubbing');
  assert.equal(await page.getByRole('button', { name: 'Jump to end' }).count(), 0);
  assert.deepEqual(await page.locator('select').first().locator('option').allTextContents(), ['real time', '10×', '60×']);
  await page.locator('select').first().selectOption({ label: '10×' });

  await page.getByRole('button', { name: 'Play', exact: true }).click();
  const pager = page.locator('.pager strong');
  await pager.waitFor({ timeout: 30_000 });
  assert.match(await pager.textContent(), /^Paged 0:1\d: /);
  await page.getByRole('button', { name: 'Play', exact: true }).waitFor(); // paused by the page
  const clock = async () => page.locator('.timeline-clock strong').textContent();
  const before = await clock();
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Home');
  await page.waitForTimeout(300);
  assert.equal(await clock(), before, 'no way back');

  // By keyboard: the runbook's actions are buttons in the tab order.
  const breaker = page.getByRole('button', { name: 'Turn on a circuit breaker in the client' });
  await breaker.focus();
  await page.keyboard.press('Enter');
  await page.getByText(/taken at 0:\d\d/).waitFor();
  assert.equal(await page.locator('.timeline .marker').count(), 1, 'the action on the timeline');
  // Each new page pauses the drill again: play on until it is over.
  while (!(await page.locator('.impact tr.yours').count())) {
    const play = page.getByRole('button', { name: 'Play', exact: true });
    if (await play.count()) await play.click();
    await page.waitForTimeout(200);
  }
  const result = await debrief(page);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('mode'), 'drill');
  const [name, t] = url.searchParams.get('at').split('@');
  assert.equal(name, 'circuit-breaker');
  const cli = cliDrill(['retry-storm', '--action', `${name}@${t}s`]);
  assert.equal(result.yours.minutes, cli.yours.impact_minutes);
  assert.equal(result.yours.failed, cli.yours.failed_requests);
  assert.ok(result.yours.minutes < result.documented.minutes, 'the breaker cut the impact');
  assert.deepEqual(errors, []);
  await page.close();
});

test('terms link to the glossary, from a lesson and from the plain player', async () => {
  const errors = [];
  const page = await openPage(browser, `${server.url}?s=retry-storm&t=30`, errors);
  // The player's module has no glossary: its button loads the training module, which opens it.
  await page.getByRole('button', { name: 'Glossary' }).click();
  const dialog = page.getByRole('dialog', { name: 'Glossary' });
  await dialog.waitFor({ timeout: 30_000 });
  assert.ok(await dialog.locator('.entry').count() >= 19);
  // Opened from the header it starts at the top, with the first term in view.
  assert.equal(await dialog.evaluate((d) => d.scrollTop), 0);
  assert.ok(await dialog.locator('.entry').first().isVisible());
  assert.match(await dialog.textContent(), /metastable failure/);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  // In the training module the fixes' texts link their terms too.
  assert.ok((await page.locator('.fix-description a.term, .fix-tradeoff a.term').allTextContents()).includes('circuit breaker'));
  // In the training module the story's terms are links to their definitions.
  const term = page.locator('a.term').first();
  await term.waitFor();
  const id = (await term.getAttribute('href')).replace('#term-', '');
  await term.click();
  await dialog.waitFor();
  assert.equal(await dialog.locator('.entry.current').getAttribute('id'), `term-${id}`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('axe-core finds no WCAG 2.1 A/AA violations in a question, an answer, a page, the debrief and the glossary, light and dark', async () => {
  mkdirSync(SHOTS, { recursive: true });
  for (const colorScheme of ['light', 'dark']) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 }, colorScheme });
    const errors = [];
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.goto(`${server.url}?s=retry-storm&mode=lesson`);
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await page.getByRole('heading', { name: /Predict · question 1/ }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await axeViolations(page), [], `question, ${colorScheme}`);
    await page.screenshot({ path: `${SHOTS}training-question-${colorScheme}.png` });
    await page.locator('.choice').first().click();
    await page.getByRole('heading', { name: /prediction held|Not what happened/ }).waitFor({ timeout: 30_000 });
    assert.deepEqual(await axeViolations(page), [], `answer, ${colorScheme}`);
    await page.screenshot({ path: `${SHOTS}training-answer-${colorScheme}.png` });
    await page.goto(`${server.url}?s=retry-storm&mode=drill&speed=10`);
    await page.getByRole('button', { name: 'Play', exact: true }).click();
    await page.locator('.pager strong').waitFor({ timeout: 30_000 });
    assert.deepEqual(await axeViolations(page), [], `paged, ${colorScheme}`);
    await page.screenshot({ path: `${SHOTS}training-paged-${colorScheme}.png` });
    await page.goto(`${server.url}?s=retry-storm&mode=drill&at=restart-both@20&t=60`);
    await debrief(page);
    assert.deepEqual(await axeViolations(page), [], `debrief, ${colorScheme}`);
    await page.screenshot({ path: `${SHOTS}training-debrief-${colorScheme}.png` });
    await page.getByRole('button', { name: 'Glossary' }).click();
    await page.getByRole('dialog', { name: 'Glossary' }).waitFor();
    assert.deepEqual(await axeViolations(page), [], `glossary, ${colorScheme}`);
    await page.screenshot({ path: `${SHOTS}training-glossary-${colorScheme}.png` });
    assert.deepEqual(errors, [], colorScheme);
    await page.close();
  }
});
