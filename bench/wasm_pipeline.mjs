// Runs the pipeline in headless Chromium on the built dist/ (inside the app's Web Worker, as
// users run it) and prints the report's per-stage timings as JSON: {"query":..., "timings_ms":{...}}.
// Usage: node bench/wasm_pipeline.mjs 'seed=42' [more queries...]
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const root = new URL('..', import.meta.url).pathname;
const port = 20000 + Math.floor(Math.random() * 2000);
const base = `http://127.0.0.1:${port}/`;
const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '-d', `${root}dist`], { stdio: 'ignore' });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  for (let i = 0; i < 100; i++) { try { if ((await fetch(base)).ok) break; } catch { await sleep(100); } }
  for (const query of process.argv.slice(2)) {
    const page = await browser.newPage({ acceptDownloads: true });
    const t0 = Date.now();
    await page.goto(`${base}?${query}`);
    // A small run starts by itself when the page opens (app::open_run); a large one waits.
    await page.locator('.run-bar .status').waitFor();
    if (await page.locator('.run-bar .status').getAttribute('data-state') === 'idle') {
      await page.getByRole('button', { name: 'Run detection' }).click();
    }
    await page.locator('.status[data-state="done"], .status[data-state="failed"]').waitFor({ timeout: 600_000 });
    const clickToDone = Date.now() - t0;
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download report' }).click(),
    ]);
    const report = JSON.parse(readFileSync(await download.path(), 'utf8'));
    // The app marks "results-shown" once the results are rendered (the task after the one
    // that renders them); performance marks count from navigation start.
    const firstResult = await page.evaluate(() => performance.getEntriesByName('results-shown')[0]?.startTime);
    console.log(JSON.stringify({ query, flows: report.data.flows, load_to_done_ms: clickToDone,
      navigation_to_result_ms: Math.round(firstResult), timings_ms: report.timings_ms }));
    await page.close();
  }
} finally {
  await browser.close();
  server.kill();
}
