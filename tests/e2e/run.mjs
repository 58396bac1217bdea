// End-to-end test of the built site (dist/) in headless Chromium:
// runs the default scenario, fails on any page error or console error, checks that every chart
// canvas has been drawn, downloads the report, validates it against the JSON Schema and checks
// that it equals the native `detect` run of the same configuration (timings aside), which
// proves wasm and native compute the same scores. Also checks URL overrides and clamping, the
// strict Content-Security-Policy (no violations, no inline script), that no request of any page
// leaves the app's own static files, and that the main flow works with the keyboard alone.
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import assert from 'node:assert/strict';

const root = new URL('../..', import.meta.url).pathname;
const artifacts = `${root}tests/e2e/artifacts`;
mkdirSync(artifacts, { recursive: true });
const port = 18000 + Math.floor(Math.random() * 2000);
const base = `http://127.0.0.1:${port}/`;
const targetDir = process.env.CARGO_TARGET_DIR || `${root}target`;

const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '-d', `${root}dist`], { stdio: 'ignore' });
const failures = [];
let browser;
// Every request of every page (and its workers and service worker), with the test it came from:
// the suite ends by checking that none left the app's own static files.
const requests = [];
let currentTest = '';
const ownOrigin = new URL(base).origin;
const isOwn = (url) => url.startsWith('blob:') || url.startsWith('data:') || new URL(url).origin === ownOrigin;

async function waitForServer() {
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(base)).ok) return; } catch { /* not up yet */ }
    await sleep(100);
  }
  throw new Error('static server did not start');
}

const testsWithPages = new Set();
async function newPage(viewport, options = {}) {
  testsWithPages.add(currentTest);
  const context = await browser.newContext({ viewport, deviceScaleFactor: 2, acceptDownloads: true, ...options });
  // Context-level: also the dedicated worker's and the service worker's requests.
  context.on('request', (r) => requests.push({ test: currentTest, url: r.url(), type: r.resourceType(), sw: !!r.serviceWorker() }));
  const page = await context.newPage();
  // Content-Security-Policy violations, as the page sees them.
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
    });
  });
  // Records every main-thread task over 50 ms (the Long Tasks API) from the first script on.
  await page.addInitScript(() => {
    window.__longTasks = [];
    try {
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    } catch { /* unsupported: the array stays empty */ }
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content.Security.Policy/i.test(m.text())) errors.push(`console.${m.type()}: ${m.text()}`);
  });
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  page.on('request', (r) => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) errors.push(`external request: ${r.url()}`); });
  return { context, page, errors };
}

// Clicks the button named `name`, saves what it downloads to `path` and returns the download.
async function download(page, name, path) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name }).click()]);
  await dl.saveAs(path);
  return dl;
}

// A page opens running its settings when they are small (app::open_run): waits until that
// run (if any) has ended.
async function settled(page, timeoutMs = 120_000) {
  await page.locator('.run-bar .status').waitFor();
  await page.locator('.run-bar .status:not([data-state="running"])').waitFor({ timeout: timeoutMs });
}

// Opens the page at `url` and lets the run it starts on opening end.
async function open(page, url, timeoutMs = 120_000) {
  await page.goto(url);
  await settled(page, timeoutMs);
}

async function runAndWait(page, timeoutMs = 120_000) {
  await settled(page, timeoutMs);
  const started = Date.now();
  // The clock starts at the click, not before the page has mounted the button: the page's own
  // start-up tasks are not the run's (they are printed by the tests that care).
  await page.getByRole('button', { name: 'Run detection' }).waitFor();
  const before = await page.evaluate(() => {
    window.__clickAt = performance.now();
    return performance.getEntriesByName('results-shown').at(-1)?.startTime ?? -1;
  });
  await page.getByRole('button', { name: 'Run detection' }).click();
  // Done means this run's results are shown (not the previous run's "done").
  await page.waitForFunction((b) => {
    const s = document.querySelector('.run-bar .status')?.dataset.state;
    return s === 'failed' || s === 'cancelled'
      || (s === 'done' && (performance.getEntriesByName('results-shown').at(-1)?.startTime ?? -1) !== b);
  }, before, { timeout: timeoutMs, polling: 50 });
  const state = await page.locator('.status').getAttribute('data-state');
  const text = await page.locator('.status').innerText();
  assert.equal(state, 'done', `run did not finish: ${text}`);
  return Date.now() - started;
}

async function canvasesDrawn(page) {
  return page.evaluate(() => [...document.querySelectorAll('canvas[data-chart]')].map((c) => {
    const ctx = c.getContext('2d');
    const { data } = ctx.getImageData(0, 0, c.width, c.height);
    const colours = new Set();
    let nonWhite = 0;
    for (let i = 0; i < data.length; i += 16) {
      const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
      if (r < 245 || g < 245 || b < 245) nonWhite++;
      colours.add((r >> 4) << 8 | (g >> 4) << 4 | (b >> 4));
    }
    return { chart: c.dataset.chart, width: c.width, cssWidth: c.clientWidth, nonWhite, colours: colours.size };
  }));
}

// What has the keyboard focus: its accessible name (aria-label, else label or text), tag, id,
// and whether it draws a focus outline.
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return { name: '', tag: 'body', id: '', outline: false };
    const style = getComputedStyle(el);
    const name = el.getAttribute('aria-label') || el.labels?.[0]?.textContent || el.textContent || '';
    return { name: name.trim(), tag: el.tagName.toLowerCase(), id: el.id, outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 };
  });
}

// Presses Tab (or Shift+Tab) until the focused element matches; returns it.
async function tabTo(page, match, what, { back = false, max = 400 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focused(page);
    if (match(f)) {
      assert.ok(f.outline, `${what} has keyboard focus but no visible focus outline`);
      return f;
    }
  }
  throw new Error(`${what} not reached in ${max} presses of ${back ? 'Shift+Tab' : 'Tab'}`);
}

// E2E_ONLY=text runs only the tests whose name contains text (the request check always runs).
async function test(name, fn) {
  if (process.env.E2E_ONLY && !name.includes(process.env.E2E_ONLY) && !name.startsWith('no request')) return;
  const t0 = Date.now();
  currentTest = name;
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}: ${e.stack || e}`);
  }
}

try {
  await waitForServer();
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

  await test('default scenario: run, charts, report download, native equality', async () => {
    const { context, page, errors } = await newPage({ width: 1400, height: 1000 });
    // Alive on arrival: the quick demo runs without a click, takes no focus and moves nothing.
    await page.goto(base);
    await page.locator('.run-bar .status[data-state="done"]').waitFor({ timeout: 60_000 });
    const shownAt = await page.evaluate(() => performance.getEntriesByName('results-shown')[0]?.startTime);
    console.log(`     quick demo results shown ${Math.round(shownAt)} ms after navigation, without a click`);
    assert.ok(Number(await page.getByTestId('ensemble-auc').innerText()) >= 0.9, 'results of the quick demo');
    assert.equal((await focused(page)).tag, 'body', 'the run on opening took the focus');
    assert.equal(await page.evaluate(() => window.scrollY), 0, 'the run on opening scrolled the page');
    // A run the user starts: the tasks and timings below are its own.
    const ms = await runAndWait(page);
    console.log(`     default run finished ${ms} ms after the click`);
    const longTasks = await page.evaluate(() => window.__longTasks.filter((t) => t.start >= window.__clickAt));
    console.log(`     main-thread tasks over 50 ms during the run: ${JSON.stringify(longTasks.map((t) => Math.round(t.ms)))}`);
    // The Long Tasks API reports tasks of 50 ms and more; a few ms of slack absorbs timer
    // granularity, not a frozen page.
    assert.ok(longTasks.every((t) => t.ms <= 55), `main thread blocked: ${JSON.stringify(longTasks)}`);
    // Charts: every canvas drawn at device-pixel resolution, with real content.
    const charts = await canvasesDrawn(page);
    assert.equal(charts.length, 5, 'five charts');
    for (const c of charts) {
      assert.ok(c.width >= c.cssWidth * 2 - 1, `${c.chart} is not HiDPI: ${c.width} px for ${c.cssWidth} css px`);
      assert.ok(c.nonWhite > 500 && c.colours > 4, `${c.chart} looks blank: ${JSON.stringify(c)}`);
    }
    const auc = Number(await page.getByTestId('ensemble-auc').innerText());
    assert.ok(auc >= 0.9, `ensemble ROC-AUC ${auc} < 0.9`);
    // The incident list against the labels: every injected attack of the demo is in an incident.
    const truthLine = await page.getByTestId('incident-truth').innerText();
    const held = truthLine.match(/^Against the labels, \d+ incidents? (?:is|are) listed and \d+ of them holds? no attack flow \([\d.]+ per hour per 100 hosts\); (\d+) of the (\d+) injected attacks (?:is|are) in a listed incident\.$/);
    assert.ok(held && held[1] === held[2] && Number(held[2]) > 0, truthLine);
    const rows = await page.locator('table.anomalies tbody tr').count();
    assert.ok(rows > 0, 'anomaly table has rows');
    // The tables fit their panel at a common laptop width (the incident table used to be
    // 1,443 px wide in 908 px, with its verdict buttons off-screen).
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.locator('table.incident-table tbody tr').first().waitFor();
    const overflow = await page.evaluate(() => [...document.querySelectorAll('.table-wrap')]
      .map((w) => ({ table: w.querySelector('table')?.className, scroll: w.scrollWidth, width: w.clientWidth }))
      .filter((w) => w.scroll > w.width + 1));
    assert.deepEqual(overflow, [], `tables wider than their panel at 1366 px: ${JSON.stringify(overflow)}`);
    await page.setViewportSize({ width: 1400, height: 1000 });
    // The URL now reproduces the run.
    assert.match(page.url(), /\?seed=42/);

    const path = `${artifacts}/report.json`;
    const reportDownload = await download(page, 'Download report', path);
    assert.match(reportDownload.suggestedFilename(), /^anomaly-report-seed42\.json$/);
    const report = JSON.parse(readFileSync(path, 'utf8'));
    for (const key of ['schema_version', 'config', 'timings_ms', 'metrics', 'anomalies']) assert.ok(key in report, `report lacks ${key}`);
    assert.equal(report.config.seed, 42);
    for (const m of ['isolation_forest', 'mlp', 'ensemble']) {
      assert.ok(report.metrics[m].roc_auc > 0.5 && report.metrics[m].pr_auc > 0, `${m} metrics`);
      assert.ok(Object.keys(report.metrics[m].recall_by_kind).length >= 3, `${m} recall per kind`);
    }
    assert.ok(report.metrics.ensemble.roc_auc >= 0.9);
    assert.ok(report.anomalies.length > 0);
    const a = report.anomalies[0];
    for (const k of ['ts', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'proto', 'scores', 'label']) assert.ok(k in a, `anomaly lacks ${k}`);
    for (const k of ['isolation_forest', 'mlp', 'ensemble']) assert.equal(typeof a.scores[k], 'number');
    for (const stage of ['generate', 'features', 'isolation_forest_fit', 'mlp_fit', 'total']) assert.ok(report.timings_ms[stage] >= 0, `timing ${stage}`);
    execFileSync('python3', [`${root}tests/validate_report.py`, path], { stdio: 'inherit' });
    // SIEM exports: one line per incident; EVE validated against Suricata's schema when present.
    assert.ok(report.incidents.length > 0, 'report lists incidents');
    assert.ok(await page.locator('table.incident-table tbody tr').count() > 0, 'incident table has rows');
    for (const [button, file] of [['Download EVE JSON', 'alerts.eve.json'], ['Download ECS NDJSON', 'alerts.ecs.ndjson']]) {
      await download(page, button, `${artifacts}/${file}`);
      const lines = readFileSync(`${artifacts}/${file}`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.equal(lines.length, report.incidents.length, `${button}: one line per incident`);
    }
    const eveSchema = `${root}../shared/schemas/suricata-eve.schema.json`;
    if (existsSync(eveSchema)) {
      execFileSync('python3', [`${root}tests/validate_eve.py`, eveSchema, `${artifacts}/alerts.eve.json`], { stdio: 'inherit' });
    } else {
      console.log(`     (EVE schema check skipped: ${eveSchema} absent)`);
    }

    // Same config natively: identical report apart from timings.
    const native = JSON.parse(execFileSync(`${targetDir}/release/detect`, ['--query', 'seed=42', '--no-timings'], { maxBuffer: 1 << 30 }).toString());
    const browserSide = { ...report, timings_ms: {} };
    assert.equal(JSON.stringify(browserSide), JSON.stringify(native), 'wasm and native reports differ');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${artifacts}/desktop.png`, fullPage: false });
    // The run, the charts and three downloads happened under the page's CSP without a violation.
    assert.match(await page.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content ?? ''), /script-src 'self' 'wasm-unsafe-eval'/);
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], 'CSP violations');
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('URL parameters override the configuration and clamp with a notice', async () => {
    const { context, page, errors } = await newPage({ width: 1200, height: 900 });
    await open(page, `${base}?seed=7&hosts=100000&duration=1200&attacks=port_scan`);
    await page.getByRole('button', { name: 'Run detection' }).waitFor();
    assert.equal(await page.getByLabel('Seed').inputValue(), '7');
    assert.equal(await page.getByLabel('Hosts', { exact: true }).inputValue(), '500');
    assert.equal(await page.getByLabel('Duration (minutes)').inputValue(), '20');
    assert.equal(await page.getByLabel('Port scan', { exact: true }).isChecked(), true);
    assert.equal(await page.getByLabel('SYN flood', { exact: true }).isChecked(), false);
    const notice = await page.getByRole('alert').innerText();
    assert.match(notice, /hosts/);
    assert.match(notice, /maximum 500/);
    // The address bar follows the form at once (no run needed), clamped values included, and
    // Copy link puts that link on the clipboard; opened elsewhere it shows the same form.
    assert.match(page.url(), /hosts=500/);
    await page.getByLabel('Hosts', { exact: true }).fill('33');
    await page.getByLabel('Hosts', { exact: true }).press('Tab');
    await page.waitForFunction(() => /hosts=33\b/.test(location.search));
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.getByRole('button', { name: 'Copy link' }).click();
    await page.getByRole('button', { name: 'Link copied' }).waitFor({ timeout: 5000 });
    const link = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(link, page.url());
    const other = await context.newPage();
    await other.goto(link);
    await other.getByRole('button', { name: 'Run detection' }).waitFor();
    assert.equal(await other.getByLabel('Hosts', { exact: true }).inputValue(), '33');
    assert.equal(await other.getByLabel('Seed').inputValue(), '7');
    // A shared link runs its (small) configuration on opening.
    await other.locator('.run-bar .status[data-state="done"]').waitFor({ timeout: 60_000 });
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('threshold and ensemble weight re-evaluate the run at once; other settings mark it out of date', async () => {
    const { context, page, errors } = await newPage({ width: 1280, height: 900 });
    const query = 'seed=6&hosts=30&duration=60';
    await open(page, `${base}?${query}`);
    await runAndWait(page);
    const status = page.locator('.run-bar .status');
    const doneText = await status.innerText();
    const cost = () => page.getByTestId('threshold-cost').innerText();
    const edit = async (label, value) => {
      const before = await cost();
      await page.getByLabel(label, { exact: true }).fill(value);
      await page.getByLabel(label, { exact: true }).press('Tab');
      await page.waitForFunction((b) => document.querySelector('[data-testid=threshold-cost]').innerText !== b, before, { timeout: 5000 })
        .catch(() => assert.fail(`${label} = ${value} changed nothing on the page`));
      // Nothing re-ran: the same finished run, not out of date.
      assert.equal(await status.getAttribute('data-state'), 'done');
      assert.equal(await status.getAttribute('data-stale'), 'false', await status.innerText());
      assert.equal(await status.innerText(), doneText);
    };
    const t0 = Date.now();
    await edit('Contamination (% flagged in training)', '5');
    await edit('Isolation Forest weight in ensemble (%)', '30');
    console.log(`     two re-evaluations shown ${Date.now() - t0} ms after the first edit`);
    // The incident budget re-lists the incidents at once too: it held groups back, and 0
    // lists every one of them.
    const heading = page.locator('#incidents-heading');
    const listed = async () => Number((await heading.innerText()).replace(/[^\d]/g, ''));
    const budgeted = await listed();
    assert.match(await page.getByTestId('incidents-held-back').innerText(), /beyond the incident budget \(3 an hour per 100 hosts: 1 for \d+ hosts/);
    // Their flows are one click away in the anomaly table, as are each incident's.
    const heldFlows = Number((await page.getByTestId('incidents-held-back').innerText()).match(/flagged ([\d,]+) more flow/)[1].replace(/,/g, ''));
    const caption = page.locator('table.anomalies caption');
    const matching = async () => Number((await caption.innerText()).match(/of ([\d,]+) matching/)[1].replace(/,/g, ''));
    await page.getByRole('button', { name: 'Show these flows' }).click();
    await page.waitForFunction((n) => (document.querySelector('table.anomalies caption')?.innerText || '').includes(`of ${n.toLocaleString('en-US')} matching`), heldFlows, { timeout: 5000 })
      .catch(async () => assert.fail(`held-back flows: ${heldFlows}, table: ${await caption.innerText()}`));
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'anomalies-heading');
    assert.equal(await page.getByTestId('incident-filter').inputValue(), 'unlisted');
    await page.getByRole('button', { name: 'Show the flows of incident 1', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=incident-filter]').value === '1', null, { timeout: 5000 });
    await page.waitForFunction((n) => !(document.querySelector('table.anomalies caption')?.innerText || '').includes(`of ${n.toLocaleString('en-US')} matching`), heldFlows, { timeout: 5000 });
    assert.ok(await matching() > 0, await caption.innerText());
    await page.getByLabel('Model-only incidents per hour per 100 hosts (0: all)', { exact: true }).fill('0');
    await page.getByLabel('Model-only incidents per hour per 100 hosts (0: all)', { exact: true }).press('Tab');
    await page.waitForFunction((n) => Number(document.querySelector('#incidents-heading').innerText.replace(/[^\d]/g, '')) > n, budgeted, { timeout: 5000 })
      .catch(() => assert.fail('a budget of 0 listed no more incidents'));
    assert.equal(await page.getByTestId('incidents-held-back').count(), 0);
    // The incidents were renumbered: the filter on incident 1 is dropped, not moved to another.
    assert.equal(await page.getByTestId('incident-filter').inputValue(), '');
    assert.equal(await status.getAttribute('data-stale'), 'false', await status.innerText());
    assert.match(page.url(), /incident_budget=0/);
    // The re-evaluated report is what a fresh run with those settings gives natively.
    const path = `${artifacts}/reevaluated.json`;
    await download(page, 'Download report', path);
    const report = JSON.parse(readFileSync(path, 'utf8'));
    const native = JSON.parse(execFileSync(`${targetDir}/release/detect`,
      ['--query', `${query}&contamination=0.05&forest_weight=0.3&incident_budget=0`, '--no-timings'], { maxBuffer: 1 << 30 }).toString());
    assert.equal(JSON.stringify({ ...report, timings_ms: {} }), JSON.stringify(native), 're-evaluated wasm report != fresh native run');

    // A setting the models were trained with: the results say they are out of date.
    await page.getByLabel('Hosts', { exact: true }).fill('31');
    await page.getByLabel('Hosts', { exact: true }).press('Tab');
    await page.locator('.run-bar .status[data-stale="true"]').waitFor({ timeout: 5000 });
    assert.match(await status.innerText(), /out of date \(traffic settings changed\): Run to update/);
    // Undoing the change makes them current again; a new run clears the mark too.
    await page.getByLabel('Hosts', { exact: true }).fill('30');
    await page.getByLabel('Hosts', { exact: true }).press('Tab');
    await page.locator('.run-bar .status[data-stale="false"]').waitFor({ timeout: 5000 });
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('scatter of both scores draws 100,000 flows in one blit within 100 ms', async () => {
    const { context, page, errors } = await newPage({ width: 1400, height: 1000 });
    await open(page, `${base}?seed=11&hosts=110&duration=3600`);
    await runAndWait(page);
    const scatter = page.locator('canvas[data-chart="scatter"]');
    await scatter.and(page.locator('[data-draw-ms]')).waitFor();
    const points = Number(await scatter.getAttribute('data-points'));
    const ms = Number(await scatter.getAttribute('data-draw-ms'));
    console.log(`     scatter: ${points} points drawn in ${ms} ms`);
    assert.ok(points >= 100_000, `only ${points} points`);
    assert.ok(ms <= 100, `scatter took ${ms} ms`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('Cancel stops a long run at once and the next run works', async () => {
    const { context, page, errors } = await newPage({ width: 1280, height: 900 });
    await open(page, `${base}?seed=3&hosts=400&duration=43200`);
    await page.getByRole('button', { name: 'Run detection' }).click();
    await page.locator('.status[data-state="running"]').waitFor();
    await sleep(300);
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.status[data-state="cancelled"]').waitFor({ timeout: 2000 });
    console.log(`     cancelled ${Date.now() - t0} ms after the click`);
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).count(), 0, 'Cancel hides when idle');
    assert.ok(await page.getByRole('button', { name: 'Run detection' }).isEnabled());
    // A fresh worker takes the next run.
    await page.getByLabel('Hosts', { exact: true }).fill('20');
    await page.getByLabel('Duration (minutes)').fill('15');
    await page.getByLabel('Duration (minutes)').press('Tab');
    await runAndWait(page);
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('after one visit the app loads and runs offline (service worker)', async () => {
    const { context, page, errors } = await newPage({ width: 1280, height: 900 });
    await open(page, `${base}?seed=5&hosts=10&duration=600`);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await context.setOffline(true);
    await page.reload();
    await page.getByRole('button', { name: 'Run detection' }).waitFor();
    await runAndWait(page);
    const manifest = await page.evaluate(() => document.querySelector('link[rel=manifest]').href);
    assert.match(manifest, /manifest\.webmanifest$/);
    // The files worker (never loaded online in this context) comes from the cache too: import
    // what the demo worker just exported.
    const offlineLog = `${artifacts}/offline.conn.log`;
    await download(page, 'Download data (Zeek conn.log)', offlineLog);
    await page.getByLabel('Import traffic').setInputFiles(offlineLog);
    await page.getByTestId('traffic-file').waitFor();
    await runAndWait(page);
    assert.match(await page.getByTestId('source').innerText(), /Imported: offline\.conn\.log \(zeek_tsv/);
    await context.setOffline(false);
    // Offline, the page's own requests are answered by the service worker, not the network.
    assert.deepEqual(errors.filter((e) => !e.startsWith('request failed')), []);
    await context.close();
  });

  await test('your own traffic: downloaded data imports, with a baseline, bad rows, threshold slider and details', async () => {
    const { context, page, errors } = await newPage({ width: 1280, height: 900 });
    await open(page, `${base}?seed=5&hosts=40&duration=30`);
    await runAndWait(page);
    // Download data: the generated flows as a Zeek conn.log and as CSV.
    const files = {};
    for (const [button, name] of [['Download data (Zeek conn.log)', 'traffic.conn.log'], ['Download data (CSV)', 'traffic.csv']]) {
      files[name] = `${artifacts}/${name}`;
      await download(page, button, files[name]);
    }
    // The browser's exports are the native ones, byte for byte (same config and seed).
    execFileSync(`${targetDir}/release/detect`, ['--query', 'seed=5&hosts=40&duration=30', '--no-timings', '--out', `${artifacts}/native-seed5.json`,
      '--flows-csv', `${artifacts}/native.csv`, '--conn-log', `${artifacts}/native.conn.log`], { stdio: 'ignore' });
    assert.ok(readFileSync(files['traffic.csv']).equals(readFileSync(`${artifacts}/native.csv`)), 'CSV export: wasm == native');
    assert.ok(readFileSync(files['traffic.conn.log']).equals(readFileSync(`${artifacts}/native.conn.log`)), 'conn.log export: wasm == native');
    const log = readFileSync(files['traffic.conn.log'], 'utf8');
    assert.match(log, /^#separator \\x09/);
    assert.match(log, /\n#fields\tts\tuid\tid\.orig_h/);
    assert.match(log, /\tlabel\t/);
    const csvText = readFileSync(files['traffic.csv'], 'utf8');
    const csvLines = csvText.trimEnd().split('\n');
    const flows = csvLines.length - 1;
    assert.ok(flows > 1000, `${flows} flows in the CSV`);

    // Import the conn.log as the user's own traffic; labels give metrics.
    await page.getByLabel('Import traffic').setInputFiles(files['traffic.conn.log']);
    await page.getByTestId('traffic-file').waitFor();
    await runAndWait(page);
    const source = await page.getByTestId('source').innerText();
    assert.match(source, /Imported: traffic\.conn\.log \(zeek_tsv/);
    assert.match(source, new RegExp(`${flows.toLocaleString('en-US')} flows`));
    assert.ok(Number(await page.getByTestId('ensemble-auc').innerText()) > 0.8, 'labelled import has metrics');
    assert.equal(await page.locator('canvas[data-chart]').count(), 5);

    // A CSV with two broken rows: they are skipped with their line numbers, the rest is kept.
    const broken = [...csvLines];
    broken.splice(10, 0, 'not,a,flow');
    broken.splice(20, 0, '"unterminated');
    const brokenPath = `${artifacts}/broken.csv`;
    writeFileSync(brokenPath, broken.join('\n') + '\n');
    await page.getByLabel('Import traffic').setInputFiles(brokenPath);
    await runAndWait(page);
    const skipped = await page.getByTestId('source').innerText();
    assert.match(skipped, /2 records skipped/, skipped);
    await page.getByText('2 records skipped').click();
    assert.match(await page.getByTestId('source').innerText(), /line 11/);

    // An unknown CSV goes through the column mapping, prefilled from its header and remembered.
    await page.getByLabel('Import traffic').setInputFiles(files['traffic.csv']);
    await page.getByTestId('detected-format').waitFor();
    assert.match(await page.getByTestId('detected-format').innerText(), /CSV/);
    const timeColumn = page.getByLabel('Time', { exact: true });
    assert.equal(await timeColumn.locator('option:checked').innerText(), 'ts');
    assert.equal(await page.getByLabel('Destination port', { exact: true }).locator('option:checked').innerText(), 'dst_port');
    await page.getByLabel('Label (ground truth, never trained on)').selectOption('');
    await runAndWait(page);
    await page.getByTestId('unlabelled').waitFor();
    await page.getByLabel('Import traffic').setInputFiles(brokenPath);
    await page.getByLabel('Import traffic').setInputFiles(files['traffic.csv']);
    await page.getByTestId('detected-format').waitFor();
    await page.waitForFunction(() => document.querySelector('#map-label option:checked')?.textContent === '(not in the file)');

    // A baseline: the models train on it and score the whole traffic file.
    const baselinePath = `${artifacts}/baseline.conn.log`;
    const logLines = log.trimEnd().split('\n');
    const header = logLines.filter((l) => l.startsWith('#'));
    const rows = logLines.filter((l) => !l.startsWith('#'));
    writeFileSync(baselinePath, [...header, ...rows.slice(0, Math.floor(rows.length / 3))].join('\n') + '\n');
    await page.getByLabel('Import traffic').setInputFiles(files['traffic.conn.log']);
    await page.getByLabel('Import baseline').setInputFiles(baselinePath);
    await page.getByTestId('baseline-file').waitFor();
    await runAndWait(page);
    assert.match(await page.getByTestId('source').innerText(), /Trained on the baseline file baseline\.conn\.log/);

    // The threshold slider re-labels at once, without retraining, and shows its cost.
    const before = await page.getByTestId('anomaly-count').innerText();
    const costBefore = await page.getByTestId('threshold-cost').innerText();
    const slider = page.getByLabel('Alert threshold (ensemble score)');
    await slider.focus();
    const t0 = Date.now();
    await slider.press('End');
    await page.waitForFunction((b) => document.querySelector('[data-testid=anomaly-count]').innerText !== b, before, { timeout: 5000 });
    console.log(`     re-thresholded in ${Date.now() - t0} ms`);
    assert.notEqual(await page.getByTestId('threshold-cost').innerText(), costBefore);
    assert.match(page.url(), /threshold=score/);
    // Wait for Home's own re-evaluation: at End the count can already be above 0 (a detection's
    // flows stay flagged at any threshold), and a re-evaluation arriving after the Details
    // click below would close the panel it opened.
    const atEnd = await page.getByTestId('anomaly-count').innerText();
    await slider.press('Home');
    await page.waitForFunction((e) => {
      const text = document.querySelector('[data-testid=anomaly-count]').innerText;
      return text !== e && Number(text.replace(/,/g, '')) > 0;
    }, atEnd, { timeout: 10000 });

    // Details of the first anomaly: flow fields, both scores, both explanations.
    await page.getByRole('button', { name: /^Details of flow/ }).first().click();
    const detail = page.locator('.anomaly-detail');
    await detail.waitFor();
    const detailText = await detail.innerText();
    for (const words of ['Isolation Forest score', 'Autoencoder error', 'Why the autoencoder flagged it', 'Why the Isolation Forest flagged it', '(typical']) {
      assert.ok(detailText.includes(words), `detail panel lacks "${words}"`);
    }
    await page.getByRole('button', { name: 'Close details' }).click();
    assert.equal(await page.locator('.pager button').last().innerText(), 'Next page');

    // A file that is not traffic: a clear error, and the page keeps working.
    const junkPath = `${artifacts}/junk.bin`;
    writeFileSync(junkPath, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256)));
    await page.getByRole('button', { name: 'Remove baseline' }).click();
    await page.getByLabel('Import traffic').setInputFiles(junkPath);
    await page.getByRole('button', { name: 'Run detection' }).click();
    await page.locator('.status[data-state="failed"]').waitFor({ timeout: 30000 });
    const failure = await page.locator('.status').innerText();
    assert.match(failure, /junk\.bin/, failure);
    await page.getByRole('button', { name: 'Use generated traffic instead' }).click();
    await runAndWait(page);
    // Back on generated traffic the demo worker holds the run (the files worker was stopped):
    // requests about the run reach it, and the report is the generated one.
    const generatedReport = `${artifacts}/after-import-report.json`;
    await download(page, 'Download report', generatedReport);
    assert.equal(JSON.parse(readFileSync(generatedReport, 'utf8')).data.source.kind, 'generated');
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('one capture filled by an attack, no baseline: the detector names it, the training check warns, SIEM files carry the technique', async () => {
    const { context, page, errors } = await newPage({ width: 1280, height: 900 });
    await open(page, base);
    await page.getByRole('button', { name: 'Run detection' }).waitFor();
    // A Zeek conn.log as a sensor writes it (no labels): 60 ordinary connections of 12 hosts,
    // and from the first second an nmap-style SYN scan of 1,000 ports of one server, so the
    // scan fills the training part too.
    const t0 = 1767261600;
    const rows = [];
    const row = (ts, src, sport, dst, dport, proto, service, dur, ob, rb, state, hist, op, rp) =>
      [ts.toFixed(6), `C${rows.length}`, src, sport, dst, dport, proto, service, dur.toFixed(6), ob, rb, state, 'T', 'T', 0, hist, op, op * 40 + ob, rp, rp * 40 + rb, '-'].join('\t');
    for (let i = 0; i < 60; i++) {
      rows.push(row(t0 + i * 10, `10.0.0.${10 + (i % 12)}`, 40000 + i, '93.184.216.34', 443, 'tcp', 'ssl', 2.5, 800, 5200, 'SF', 'ShADadFf', 8, 9));
    }
    for (let p = 1; p <= 1000; p++) {
      rows.push(row(t0 + 1 + p * 0.02, '10.9.9.9', 55555, '10.0.0.20', p, 'tcp', '-', 0, 0, 0, p === 22 || p === 80 ? 'REJ' : 'S0', p === 22 || p === 80 ? 'Sr' : 'S', 1, p === 22 || p === 80 ? 1 : 0));
    }
    rows.sort((a, b) => Number(a.split('\t')[0]) - Number(b.split('\t')[0]));
    const header = ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn', '#open\t2026-01-01-10-00-00',
      '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents',
      '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]'];
    const scanPath = `${artifacts}/scan-only.conn.log`;
    writeFileSync(scanPath, [...header, ...rows, '#close\t2026-01-01-10-10-00'].join('\n') + '\n');
    await page.getByLabel('Import traffic').setInputFiles(scanPath);
    await page.getByTestId('traffic-file').waitFor();
    await runAndWait(page);
    const check = await page.getByTestId('training-warnings').innerText();
    assert.match(check, /training part contains a port scan from 10\.9\.9\.9/, check);
    const incidents = await page.locator('.incident-table').innerText();
    assert.match(incidents, /T1046 Network Service Discovery/, incidents);
    assert.match(incidents, /Found by a behavioural detector/, incidents);
    assert.match(incidents, /10\.9\.9\.9/, incidents);
    const first = page.locator('.incident-table tbody tr').first();
    assert.match(await first.locator('.severity').innerText(), /high|critical/i);
    await first.getByText('Evidence').click();
    assert.match(await first.innerText(), /attack\.mitre\.org\/techniques\/T1046\//);
    const eve = `${artifacts}/scan-only.eve.json`;
    await download(page, 'Download EVE JSON', eve);
    const alerts = readFileSync(eve, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const scanAlert = alerts.find((a) => a.alert.metadata.mitre_technique_id?.[0] === 'T1046');
    assert.ok(scanAlert, 'an EVE alert carries T1046');
    assert.equal(scanAlert.alert.category, 'Detection of a Network Scan');
    assert.equal(scanAlert.src_ip, '10.9.9.9');
    for (const a of alerts) {
      if (a.community_id) assert.ok(a.src_port !== undefined && a.dest_port !== undefined, 'a Community ID comes with its whole 5-tuple');
    }
    const ecs = `${artifacts}/scan-only.ecs.ndjson`;
    await download(page, 'Download ECS NDJSON', ecs);
    const docs = readFileSync(ecs, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const scanDoc = docs.find((d) => d.threat?.technique?.id?.[0] === 'T1046');
    assert.ok(scanDoc, 'an ECS document carries threat.technique T1046');
    assert.equal(scanDoc.threat.framework, 'MITRE ATT&CK');
    assert.equal(scanDoc.threat.tactic.name[0], 'Discovery');
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('incidents: a false-positive verdict suppresses at once, responses to copy, undo restores', async () => {
    const { context, page, errors } = await newPage({ width: 1280, height: 900 });
    await open(page, `${base}?seed=8&hosts=40&duration=30`);
    await runAndWait(page);
    const count = async () => Number((await page.getByTestId('anomaly-count').innerText()).replace(/,/g, ''));
    const before = await count();
    const firstSummary = (await page.locator('.incident-table tbody tr').first().locator('td').nth(2).innerText()).split('\n')[0];
    await page.locator('.incident-table tbody tr').first().getByText('Suggested response').click();
    await page.locator('.incident-table tbody tr').first().locator('details.response > p').first().waitFor();
    const response = await page.locator('.incident-table tbody tr').first().locator('details.response').innerText();
    assert.match(response, /nft |iptables |netsh |Protect the victim|infrastructure/, response);
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Mark incident 1 as a false positive', exact: true }).click();
    await page.getByTestId('verdicts').waitFor({ timeout: 5000 });
    console.log(`     verdict applied in ${Date.now() - t0} ms`);
    const after = await count();
    assert.ok(after < before, `anomalies ${before} -> ${after}`);
    assert.match(await page.getByTestId('verdicts').innerText(), /false positive: traffic (from|to) /);
    await page.getByRole('button', { name: 'Confirm incident 1', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('.verdicts')?.innerText.includes('confirmed'));
    // The report records both verdicts.
    const path = `${artifacts}/judged-report.json`;
    await download(page, 'Download report', path);
    const report = JSON.parse(readFileSync(path, 'utf8'));
    assert.deepEqual(report.feedback.map((v) => v.verdict).sort(), ['confirmed', 'false_positive']);
    assert.equal(report.anomaly_count, after);
    assert.ok(report.suppressed_anomalies > 0);
    execFileSync('python3', [`${root}tests/validate_report.py`, path], { stdio: 'inherit' });
    // Withdrawing both restores the run.
    for (let i = 0; i < 2; i++) await page.getByRole('button', { name: /^Withdraw the verdict/ }).first().click().then(() => page.waitForTimeout(300));
    await page.waitForFunction((b) => Number(document.querySelector('[data-testid=anomaly-count]').innerText.replace(/,/g, '')) === b, before);
    assert.equal((await page.locator('.incident-table tbody tr').first().locator('td').nth(2).innerText()).split('\n')[0], firstSummary);
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('generator settings: preset picker, every attack kind, parameters in the URL', async () => {
    const { context, page, errors } = await newPage({ width: 1280, height: 900 });
    await open(page, `${base}?preset=ddos_day&seed=9&train=all`);
    await page.getByLabel('Preset').waitFor();
    assert.equal(await page.getByLabel('Preset').inputValue(), 'ddos_day');
    assert.equal(await page.getByLabel('Train on').inputValue(), 'all');
    await page.locator('[data-kind="port_scan"] summary').click();
    assert.equal(await page.getByLabel('Port scan: Scan method').inputValue(), 'udp');
    // Every kind can be switched on; the estimate follows.
    const estimate = async () => Number(await page.getByTestId('flow-estimate').getAttribute('data-attack-flows'));
    await page.getByRole('button', { name: 'Disable all attacks' }).click();
    assert.equal(await estimate(), 0);
    await page.getByRole('button', { name: 'Enable all attacks' }).click();
    for (const kind of ['Port scan', 'SYN flood', 'SSH brute force', 'Horizontal scan', 'RDP brute force', 'Data exfiltration',
      'C2 beaconing', 'DNS tunnelling', 'Lateral movement', 'ICMP sweep', 'Slow HTTP DoS', 'Crypto mining']) {
      assert.ok(await page.getByRole('checkbox', { name: kind, exact: true }).isChecked(), `${kind} enabled`);
    }
    assert.ok(await estimate() > 0);
    await page.getByRole('checkbox', { name: 'C2 beaconing', exact: true }).uncheck();
    await page.getByRole('checkbox', { name: 'C2 beaconing', exact: true }).check();
    await page.locator('[data-kind="c2_beacon"] summary').click();
    await page.getByLabel('C2 beaconing: Beacon period (seconds)').fill('45');
    await page.getByLabel('C2 beaconing: Beacon period (seconds)').press('Enter');
    await page.getByLabel('C2 beaconing: Stealth (0 loud to 1 quiet)').fill('0.8');
    await page.getByLabel('C2 beaconing: Stealth (0 loud to 1 quiet)').press('Enter');
    await page.getByLabel('Duration (minutes)').fill('20');
    await page.getByLabel('Duration (minutes)').press('Enter');
    await runAndWait(page);
    const url = decodeURIComponent(page.url());
    assert.match(url, /attacks=[a-z_,]*c2_beacon/);
    assert.match(url, /period=45/);
    assert.notEqual(await page.getByLabel('Preset').inputValue(), 'ddos_day', 'edited: no preset matches');
    // The run honours the settings: the report lists a beacon with that period.
    const path = `${artifacts}/all-kinds-report.json`;
    await download(page, 'Download report', path);
    const report = JSON.parse(readFileSync(path, 'utf8'));
    const kinds = new Set(report.injected_attacks.map((a) => a.kind));
    assert.ok(kinds.size >= 10, `kinds injected: ${[...kinds]}`);
    const beacon = report.config.generator.attacks.find((a) => a.kind === 'c2_beacon');
    assert.equal(beacon.period_s ?? beacon.period, 45);
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('a saved model: download it, score another day and an imported file with it, bad model files refused', async () => {
    const { context, page, errors } = await newPage({ width: 1280, height: 900 });
    await open(page, `${base}?seed=21&hosts=15&duration=60`);
    await runAndWait(page);
    const modelPath = `${artifacts}/model.json`;
    const dl = await download(page, 'Download model', modelPath);
    assert.equal(dl.suggestedFilename(), 'anomaly-model-seed21.json');
    execFileSync(`${targetDir}/release/detect`, ['--query', 'seed=21&hosts=15&duration=60', '--out', `${artifacts}/native-seed21.json`,
      '--save-model', `${artifacts}/native-model.json`], { stdio: 'ignore' });
    assert.ok(readFileSync(modelPath).equals(readFileSync(`${artifacts}/native-model.json`)), 'saved model: wasm == native, byte for byte');
    const model = JSON.parse(readFileSync(modelPath, 'utf8'));
    assert.equal(model.format, 'anomaly-detector/detector');
    assert.equal(model.version, 1);
    assert.match(model.trained_on, /seed 21/);
    assert.equal(model.preprocessing.columns.length, model.preprocessing.scaler.mean.length);

    // Another day, scored by the saved model: nothing is trained, thresholds come with it.
    await page.getByLabel('Apply a saved model').setInputFiles(modelPath);
    await page.getByTestId('model-file').waitFor();
    await page.getByLabel('Seed').fill('22');
    await page.getByLabel('Seed').press('Enter');
    const t0 = Date.now();
    await runAndWait(page);
    console.log(`     another day scored by the saved model in ${Date.now() - t0} ms`);
    const source = await page.getByTestId('source').innerText();
    assert.match(source, /in a saved model \(generated traffic, seed 21/, source);
    assert.ok(Number(await page.getByTestId('ensemble-auc').innerText()) > 0.8, 'the saved model still detects');
    const reportPath = `${artifacts}/model-applied-report.json`;
    await download(page, 'Download report', reportPath);
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    assert.equal(report.config.seed, 22);
    assert.equal(report.data.training_flows, 0);
    assert.equal(report.data.evaluated_flows, report.data.flows);

    // The same model on an imported file (the other day's flows as a Zeek conn.log).
    const logPath = `${artifacts}/day2.conn.log`;
    await download(page, 'Download data (Zeek conn.log)', logPath);
    await page.getByLabel('Import traffic').setInputFiles(logPath);
    await page.getByTestId('traffic-file').waitFor();
    await runAndWait(page);
    const imported = await page.getByTestId('source').innerText();
    assert.match(imported, /Imported: day2\.conn\.log/);
    assert.match(imported, /in a saved model/);

    // A file that is not a model is refused with a reason; the page stays usable.
    const junk = `${artifacts}/not-a-model.json`;
    writeFileSync(junk, JSON.stringify({ format: 'something-else', version: 1 }));
    await page.getByLabel('Apply a saved model').setInputFiles(junk);
    await page.getByRole('button', { name: 'Run detection' }).click();
    await page.locator('.status[data-state="failed"]').waitFor({ timeout: 30000 });
    assert.match(await page.locator('.status').innerText(), /not-a-model\.json: not a detector model file/);
    await page.getByRole('button', { name: 'Train a new model instead' }).click();
    await page.getByRole('button', { name: 'Use generated traffic instead' }).click();
    await runAndWait(page);
    // Trained on its own traffic again (the training check may still suggest a saved model).
    assert.doesNotMatch(await page.getByTestId('source').innerText(), /in a saved model/);
    assert.deepEqual(errors, []);
    await context.close();
  });

  // The 50 ms bound holds while the run works; drawing a million dots afterwards still takes one
  // longer task (the scatter), logged here and listed as known work in the README.
  await test('a million flows: the large-site preset runs and draws in the tab', async () => {
    const { context, page, errors } = await newPage({ width: 1280, height: 900 });
    // Without an incident budget, so that thousands of incidents reach the page.
    await open(page, `${base}?preset=large_site&duration=8400&incident_budget=0`);
    // Too large to start on opening: the page waits for Run and says why.
    assert.equal(await page.locator('.run-bar .status').getAttribute('data-state'), 'idle');
    assert.match(await page.locator('.run-bar .status').innerText(), /large run \(about (\d{3}|1,\d{3}),\d{3} flows\): press Run detection/);
    const ms = await runAndWait(page, 300_000);
    const flows = Number((await page.getByTestId('flow-count').innerText()).replace(/[^\d]/g, ''));
    assert.ok(flows >= 1_000_000, `${flows} flows`);
    // Thousands of incidents: the page lists the 100 most severe and says so.
    assert.match(await page.getByTestId('incidents-listed').innerText(), /The 100 most severe are listed/);
    assert.equal(await page.locator('.incident-table tbody tr').count(), 100);
    const longTasks = await page.evaluate(() => window.__longTasks.filter((t) => t.start >= window.__clickAt));
    const startup = await page.evaluate(() => window.__longTasks.filter((t) => t.start < window.__clickAt).map((t) => Math.round(t.ms)));
    console.log(`     start-up tasks over 50 ms (before the click): ${JSON.stringify(startup)}`);
    const heapMb = await page.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize / 1e6 : NaN));
    const chartMs = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('canvas[data-chart]')].map((c) => [c.dataset.chart, Number(c.dataset.taskMs)])));
    const decode = await page.evaluate(() => { const m = performance.getEntriesByName('run-done')[0]; return m && window.__longTasks.filter((t) => t.start <= m.startTime && t.start + t.ms >= m.startTime).map((t) => Math.round(t.ms)); });
    console.log(`     chart drawing tasks (ms): ${JSON.stringify(chartMs)}; task holding the results message: ${JSON.stringify(decode)}`);
    console.log(`     ${flows} flows, ${ms} ms click to done; page heap ${heapMb.toFixed(0)} MB; tasks over 50 ms: ${JSON.stringify(longTasks.map((t) => Math.round(t.ms)))}`);
    assert.ok(await canvasesDrawn(page), 'charts drawn');
    const doneAt = await page.evaluate(() => performance.getEntriesByName('run-done')[0]?.startTime ?? Infinity);
    const whileWorking = longTasks.filter((t) => t.start + t.ms < doneAt);
    assert.ok(whileWorking.every((t) => t.ms <= 55), `main thread blocked while working: ${JSON.stringify(whileWorking)}`);
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('phone-sized viewport runs a small scenario', async () => {
    const { context, page, errors } = await newPage({ width: 390, height: 844 });
    await open(page, `${base}?seed=3&hosts=10&duration=10`);
    await runAndWait(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `page overflows the phone viewport by ${overflow} px`);
    // On a phone every incident and anomaly row is a card: nothing scrolls sideways.
    const tables = await page.evaluate(() => [...document.querySelectorAll('.table-wrap')]
      .map((w) => ({ table: w.querySelector('table')?.className, scroll: w.scrollWidth, width: w.clientWidth }))
      .filter((w) => /incident-table|anomalies/.test(w.table) && w.scroll > w.width + 1));
    assert.deepEqual(tables, [], `tables wider than the phone: ${JSON.stringify(tables)}`);
    await page.screenshot({ path: `${artifacts}/phone.png` });
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('dark mode: the five charts follow the theme', async () => {
    const { context, page, errors } = await newPage({ width: 1280, height: 900 }, { colorScheme: 'dark' });
    await open(page, `${base}?seed=5&hosts=20&duration=300`);
    assert.equal(await page.locator('.run-bar .status').getAttribute('data-state'), 'done');
    await page.locator('canvas[data-chart="scatter"][data-draw-ms]').waitFor();
    await sleep(300);
    const looks = await page.evaluate(() => [...document.querySelectorAll('canvas[data-chart]')].map((c) => {
      const { data } = c.getContext('2d').getImageData(0, 0, c.width, c.height);
      const lum = (i) => 0.2126 * data[i] + 0.7152 * data[i + 1] + 0.0722 * data[i + 2];
      let light = 0;
      for (let i = 0; i < data.length; i += 16) if (lum(i) > 150) light++;
      return { chart: c.dataset.chart, corner: Math.round(lum(4 * (2 * c.width + 2))), light };
    }));
    console.log(`     dark charts: ${JSON.stringify(looks)}`);
    for (const c of looks) {
      assert.ok(c.corner < 60, `${c.chart} has a light background in dark mode: ${JSON.stringify(c)}`);
      assert.ok(c.light > 100, `${c.chart} has no light text or marks on its dark background: ${JSON.stringify(c)}`);
    }
    assert.deepEqual(errors, []);
    await context.close();
  });

  await test('strict Content-Security-Policy in dist/index.html, no inline script', async () => {
    const html = readFileSync(`${root}dist/index.html`, 'utf8');
    const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)"/);
    assert.ok(meta, 'index.html has no CSP meta tag');
    const policy = Object.fromEntries(meta[1].split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v.join(' ')]));
    for (const [directive, sources] of Object.entries({
      'default-src': "'self'", 'script-src': "'self' 'wasm-unsafe-eval'", 'worker-src': "'self'", 'connect-src': "'self'",
      'img-src': "'self' data: blob:", 'style-src': "'self'", 'object-src': "'none'", 'base-uri': "'self'", 'form-action': "'none'",
    })) assert.equal(policy[directive], sources, `CSP ${directive}`);
    assert.ok(!/'unsafe-inline'|'unsafe-eval'|'unsafe-hashes'|\*/.test(meta[1]), `the policy allows inline code, eval or any host: ${meta[1]}`);
    // The policy comes before anything it governs.
    assert.ok(html.indexOf('Content-Security-Policy') < html.search(/<(script|link)\b/), 'CSP meta comes after a resource');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    assert.ok(scripts.length >= 1, 'index.html loads a script');
    for (const [tag, attrs, body] of scripts) {
      assert.equal(body.trim(), '', `inline script: ${tag.slice(0, 120)}`);
      const src = attrs.match(/\bsrc="([^"]+)"/)?.[1] ?? '';
      assert.match(src, /^\.\/[^/]+$/, `script src is not a relative file: ${src}`);
      assert.ok(existsSync(`${root}dist/${src.slice(2)}`), `${src} missing from dist/`);
    }
    assert.ok(!/\son[a-z]+\s*=/i.test(html), 'inline event handler in index.html');
  });

  for (const [label, viewport] of [['phone', { width: 390, height: 844 }], ['desktop', { width: 1280, height: 900 }]]) {
    await test(`keyboard only (${label} ${viewport.width}x${viewport.height}): run, threshold, details, report`, async () => {
      const { context, page, errors } = await newPage(viewport);
      await open(page, `${base}?seed=4&hosts=30&duration=20`);
      await page.getByRole('button', { name: 'Run detection' }).waitFor();
      await tabTo(page, (f) => f.tag === 'button' && f.name === 'Run detection', 'Run detection');
      await page.keyboard.press('Enter');
      await page.locator('.status[data-state="done"], .status[data-state="failed"]').waitFor({ timeout: 120_000 });
      assert.equal(await page.locator('.status').getAttribute('data-state'), 'done', await page.locator('.status').innerText());
      // Focus does not drop to the page: Cancel takes it while running, the results after.
      await page.waitForFunction(() => document.activeElement?.id === 'results-heading', null, { timeout: 5000 })
        .catch(async () => assert.fail(`focus after the run: ${JSON.stringify(await focused(page))}`));
      // Run and the run's status stay in view wherever the page is scrolled.
      for (const y of [0, 1e6]) {
        await page.evaluate((to) => window.scrollTo(0, to), y);
        const inView = await page.evaluate(() => ['#run-button', '.run-bar .status'].map((sel) => {
          const r = document.querySelector(sel).getBoundingClientRect();
          return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
        }));
        assert.deepEqual(inView, [true, true], `Run button and status in view at scroll ${y}`);
      }

      // The threshold slider moves with the arrow keys and the anomaly count follows.
      await tabTo(page, (f) => f.id === 'threshold-slider', 'the threshold slider');
      const count = () => page.getByTestId('anomaly-count').innerText();
      const before = await count();
      let presses = 0;
      for (; presses < 40 && (await count()) === before; presses++) {
        await page.keyboard.press('ArrowRight');
        await page.waitForFunction((b) => document.querySelector('[data-testid=anomaly-count]').innerText !== b, before, { timeout: 500 }).catch(() => {});
      }
      const after = await count();
      console.log(`     ${label}: anomalies ${before} -> ${after} after ${presses} ArrowRight presses`);
      assert.notEqual(after, before, 'the anomaly count did not change with the arrow keys');
      // Further presses keep moving it (a slider that snaps back to the last rounded threshold
      // would leave keyboard users stuck after one step).
      const sliderValue = () => page.locator('#threshold-slider').inputValue().then(Number);
      const v1 = await sliderValue();
      for (let i = 0; i < 5; i++) {
        await page.keyboard.press('ArrowRight');
        await sleep(300);
      }
      const v2 = await sliderValue();
      const later = Number((await count()).replace(/,/g, ''));
      console.log(`     ${label}: 5 more presses: slider ${v1} -> ${v2}, anomalies ${later}`);
      assert.ok(v2 > v1, `the slider snapped back: ${v1} -> ${v2}`);
      assert.ok(later <= Number(after.replace(/,/g, '')), 'a higher threshold flagged more');
      assert.equal((await focused(page)).id, 'threshold-slider', 'the slider lost focus');
      await page.keyboard.press('Home');
      await page.waitForFunction(() => Number(document.querySelector('[data-testid=anomaly-count]').innerText.replace(/,/g, '')) > 0);

      // Details: Enter opens, focus lands in the panel, Escape closes and gives focus back.
      const opener = await tabTo(page, (f) => /^Details of flow \d+$/.test(f.name), 'a "Details of flow" button');
      await page.keyboard.press('Enter');
      await page.locator('.anomaly-detail').waitFor();
      assert.equal((await focused(page)).tag, 'section', 'focus did not move to the details panel');
      await page.keyboard.press('Escape');
      await page.locator('.anomaly-detail').waitFor({ state: 'detached', timeout: 5000 });
      assert.equal((await focused(page)).name, opener.name, 'Escape did not return focus to the button that opened the details');
      // Space opens it too; its Close button closes it and focus returns again.
      await page.keyboard.press('Space');
      await page.locator('.anomaly-detail').waitFor();
      await tabTo(page, (f) => f.name === 'Close details', 'Close details', { max: 20 });
      await page.keyboard.press('Enter');
      await page.locator('.anomaly-detail').waitFor({ state: 'detached', timeout: 5000 });
      assert.equal((await focused(page)).name, opener.name, 'Close details did not return focus to its opener');

      // Back up to the report download.
      await tabTo(page, (f) => f.name === 'Download report', 'Download report', { back: true });
      const [keyed] = await Promise.all([page.waitForEvent('download'), page.keyboard.press('Enter')]);
      assert.match(keyed.suggestedFilename(), /^anomaly-report-seed4\.json$/);
      assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], 'CSP violations');
      assert.deepEqual(errors, []);
      await context.close();
    });
  }

  await test('no request of any page left the app\'s own static files', async () => {
    const foreign = requests.filter((r) => !isOwn(r.url));
    assert.deepEqual(foreign, [], 'requests to other origins');
    // The recording saw every test's pages, including their workers and the service worker.
    const byTest = new Map();
    for (const r of requests) byTest.set(r.test, (byTest.get(r.test) ?? 0) + 1);
    for (const name of testsWithPages) assert.ok(byTest.get(name) > 0, `no requests recorded for "${name}"`);
    // A subset (E2E_ONLY) need not start a worker; the full suite always does.
    if (!process.env.E2E_ONLY) {
      const file = (r) => new URL(r.url).pathname.replace(/^.*\//, '');
      const fromPages = new Set(requests.filter((r) => !r.sw).map(file));
      const fromServiceWorker = new Set(requests.filter((r) => r.sw).map(file));
      // The compute workers' own loads are seen, not only the service worker's precache of them.
      for (const f of ['worker_loader.js', 'worker.js', 'worker_bg.wasm', 'files_worker_loader.js', 'files_worker.js', 'files_worker_bg.wasm']) assert.ok(fromPages.has(f), `${f} never requested by a page or its worker: worker requests not recorded?`);
      const boot = (set) => [...set].some((u) => /^boot-[0-9a-f]{16}\.js$/.test(u));
      assert.ok(boot(fromPages), 'the bootstrap file was never requested');
      // The service worker's precache requests are recorded too, and they include the bootstrap.
      assert.ok(boot(fromServiceWorker), `the service worker never fetched the bootstrap (it fetched ${[...fromServiceWorker]})`);
    }
    console.log(`     ${requests.length} requests from ${byTest.size} tests, all to ${ownOrigin} (or blob:/data:)`);
  });
} finally {
  if (browser) await browser.close();
  server.kill();
}

if (failures.length) {
  console.log(`\n${failures.length} end-to-end test(s) failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('\nall end-to-end tests passed');
