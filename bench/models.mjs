// Runs `bench::run` compiled to wasm (src/bin/bench.rs, wasm-bindgen --target web output in
// DIR) in headless Chromium, on the page's main thread, and prints one JSON line per case:
// the same fields as `bench run` natively ({"name","ms","checksum",...}).
// Usage: node bench/models.mjs DIR REPEATS CASE [CASE...]
import { chromium } from 'playwright-core';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const [dir, repeats, ...cases] = process.argv.slice(2);
const port = 22000 + Math.floor(Math.random() * 2000);
const base = `http://127.0.0.1:${port}/`;
const server = spawn('python3', ['-m', 'http.server', String(port), '--bind', '127.0.0.1', '-d', dir], { stdio: 'ignore' });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failed = false;
try {
  for (let i = 0; i < 100; i++) { try { if ((await fetch(base)).ok) break; } catch { await sleep(100); } }
  const page = await browser.newPage();
  page.on('pageerror', (e) => { console.error(`page error: ${e}`); failed = true; });
  await page.goto(base); // the server's directory listing: any same-origin page will do
  await page.evaluate(async () => {
    const m = await import('./bench.js');
    await m.default();
    window.benchModule = m;
  });
  for (const name of cases) {
    // One untimed run first: V8 compiles hot wasm functions with TurboFan in the background
    // and switches at their next call, so the first timed runs of a case could otherwise still
    // be baseline code (the figures compare steady states, as scikit-learn's do); the pause
    // lets that compile finish on a 2-core machine.
    await page.evaluate((n) => window.benchModule.run_bench(n, 1), name);
    await sleep(500);
    const line = await page.evaluate(([n, r]) => window.benchModule.run_bench(n, r), [name, Number(repeats)]);
    console.log(line);
  }
} catch (e) {
  console.error(`bench/models.mjs: ${e}`);
  failed = true;
} finally {
  await browser.close();
  server.kill();
}
process.exit(failed ? 1 : 0);
