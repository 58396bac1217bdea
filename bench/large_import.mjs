// Imports one large traffic file into the built app (dist/) in headless Chromium, as a user
// would ("Import traffic", then "Run detection"), and prints one JSON line: file size, flows,
// seconds from the click to the results, the page's own JS heap. It shows that a file of
// hundreds of megabytes is read, parsed and analysed inside the tab's memory.
// Usage: node bench/large_import.mjs FILE    (scripts/build first)
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const root = new URL('..', import.meta.url).pathname;
const file = process.argv[2];
if (!file) {
  console.error('usage: node bench/large_import.mjs FILE');
  process.exit(2);
}
const port = 22000 + Math.floor(Math.random() * 2000);
const base = `http://127.0.0.1:${port}/`;
const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '-d', `${root}dist`], { stdio: 'ignore' });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
});
try {
  for (let i = 0; i < 100; i++) { try { if ((await fetch(base)).ok) break; } catch { await sleep(100); } }
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(base);
  await page.getByLabel('Import traffic').setInputFiles(file);
  await page.getByTestId('traffic-file').waitFor();
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Run detection' }).click();
  await page.locator('.status[data-state="done"], .status[data-state="failed"]').waitFor({ timeout: 3_600_000 });
  const seconds = (Date.now() - t0) / 1000;
  const status = await page.locator('.status').innerText();
  const done = (await page.locator('.status').getAttribute('data-state')) === 'done';
  const flows = done ? Number((await page.getByTestId('flow-count').innerText()).replace(/[^\d]/g, '')) : 0;
  const heapMb = await page.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize / 1e6 : null));
  console.log(JSON.stringify({ name: 'large_import', file_bytes: statSync(file).size, done, status: done ? undefined : status, flows, click_to_done_s: Math.round(seconds), page_heap_mb: heapMb && Math.round(heapMb), errors }));
} finally {
  await browser.close();
  server.kill();
}
