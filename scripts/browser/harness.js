// harness.js — the shared half of loadplan's browser tests (the Go half is internal/browsertest).
// A test script requires it, calls open() for a page in Debian's headless Chromium driven by
// playwright-core, and ends with done(result): one JSON line on stdout that the Go test decodes.
//
// Every page is watched the same way: console errors and uncaught exceptions are collected, and
// any request that would leave the machine (a host other than 127.0.0.1, ::1 or localhost, or a
// scheme other than http, https, file, data, blob) is aborted and recorded, so a test can assert
// that the page "loads nothing from the network".
'use strict';

const { chromium } = require('playwright-core');

const localHosts = new Set(['127.0.0.1', '[::1]', '::1', 'localhost']);

function leavesMachine(url) {
  let u;
  try { u = new URL(url); } catch (e) { return true; }
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'file:' || u.protocol === 'about:') return false;
  if (u.protocol !== 'http:' && u.protocol !== 'https:' && u.protocol !== 'ws:' && u.protocol !== 'wss:') return true;
  return !localHosts.has(u.hostname);
}

// open launches Chromium (LOADPLAN_CHROMIUM, set by the Go half) and returns
// { browser, context, page, log } where log holds consoleErrors, pageErrors, external (the
// aborted requests leaving the machine) and requests (every URL the page asked for).
async function open(options = {}) {
  const browser = await chromium.launch({
    executablePath: process.env.LOADPLAN_CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({
    viewport: options.viewport || { width: 1280, height: 900 },
    extraHTTPHeaders: options.headers || {},
    acceptDownloads: true,
  });
  const log = { consoleErrors: [], pageErrors: [], external: [], requests: [] };
  await context.route('**/*', (route) => {
    const url = route.request().url();
    log.requests.push(url);
    if (leavesMachine(url)) {
      log.external.push(url);
      return route.abort();
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') log.consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => log.pageErrors.push(String(e)));
  return { browser, context, page, log };
}

// done prints the result as the last stdout line and exits 0; fail prints the error and exits 1.
function done(result) {
  process.stdout.write('\n' + JSON.stringify(result) + '\n');
  process.exit(0);
}

function fail(err) {
  process.stderr.write(String((err && err.stack) || err) + '\n');
  process.exit(1);
}

module.exports = { open, done, fail, leavesMachine };
