// Post-processes Trunk's dist/index.html so the page runs under a strict Content-Security-Policy
// with no inline script: Trunk (0.21) always injects its wasm bootstrap as an inline
// `<script type="module">`, and has no option to emit it as a file. This moves that bootstrap
// into dist/boot-<hash>.js (hashed like Trunk's own assets, so the service worker serves it
// cache-first and precaches it from its `src="./…"`), references it by a relative path (dist/
// works under any sub-path) with a sub-resource integrity hash, and inserts the CSP meta tag.
// It refuses (exit 1) to write a page that would break the policy: any other inline script,
// inline event handler, `<style>` or `style=` attribute, or an asset the bootstrap loads that
// index.html does not name (the service worker would not precache it).
//   node scripts/harden-dist.mjs [dist]
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

// Why each source is there:
// - script-src 'self' 'wasm-unsafe-eval': the bootstrap and wasm-bindgen glue are files; the
//   wasm needs 'wasm-unsafe-eval' to compile (WebAssembly.instantiateStreaming), nothing else.
// - worker-src 'self': the compute worker (worker_loader.js) and the service worker (sw.js).
// - connect-src 'self': the page fetches only its own wasm.
// - style-src 'self': one stylesheet file; no <style> elements and no style attributes (the
//   charts measure text with canvas measureText instead of plotters' inline-styled <span>,
//   src/ui/charts.rs); index.html is checked below, the e2e suite catches run-time violations.
// - img-src data: blob:: images the page may build itself; no remote images.
// Downloads are blob: URLs opened by <a download>, which no directive governs.
// frame-ancestors cannot be set from a meta tag; a host should send it as a header.
export const CSP = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data: blob:",
  "style-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

const dist = (process.argv[2] || 'dist').replace(/\/$/, '');
const indexPath = `${dist}/index.html`;
let html = readFileSync(indexPath, 'utf8');
const fail = (why) => { console.error(`harden-dist: ${why}`); process.exit(1); };

if (html.includes('http-equiv="Content-Security-Policy"')) fail(`${indexPath} already has a CSP (run once per trunk build)`);

const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
let boots = 0;
html = html.replace(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi, (whole, attrs, body) => {
  if (/\bsrc\s*=/i.test(attrs)) return whole;
  if (!body.trim()) return '';
  if (!/\btype\s*=\s*["']?module["']?/i.test(attrs)) fail(`unexpected inline classic script: ${whole.slice(0, 200)}`);
  const code = `${body.trim()}\n`;
  const name = `boot-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.js`;
  writeFileSync(`${dist}/${name}`, code);
  // Every asset the bootstrap loads must be named in index.html too: the service worker
  // precaches what index.html names.
  for (const [, asset] of code.matchAll(/["']\.\/([^"']+)["']/g)) {
    if (!html.includes(`"./${asset}"`)) fail(`${name} loads ./${asset}, which index.html does not name`);
  }
  boots++;
  return `<script type="module" src="./${name}" integrity="${sri(code)}"></script>`;
});
if (boots !== 1) fail(`expected one inline module bootstrap from Trunk, found ${boots}`);
if (/<script\b[^>]*>\s*[^<\s]/i.test(html.replace(/<script\b[^>]*\bsrc=[^>]*><\/script>/gi, ''))) fail('inline script left');
if (/<style\b/i.test(html)) fail('inline <style> element');
if (/\sstyle\s*=/i.test(html)) fail('inline style attribute');
if (/\son[a-z]+\s*=/i.test(html)) fail('inline event handler attribute');

const charset = /<meta charset="utf-8"\s*\/?>/i;
if (!charset.test(html)) fail('no <meta charset="utf-8"> to put the CSP after');
// First in <head> after the charset, so it governs every resource the page names.
html = html.replace(charset, (m) => `${m}\n    <meta http-equiv="Content-Security-Policy" content="${CSP}" />`);
writeFileSync(indexPath, html);
console.error(`harden-dist: bootstrap moved to a file, CSP set in ${indexPath}`);
