// bench_page.js — BenchmarkUIOverhead's browser: one Chromium page, kept open; each stdin line is
// a URL to open (about:blank to close the UI between rounds), answered "ok" once loaded. It ends
// when stdin closes.
const h = require(process.env.LOADPLAN_HARNESS);
const readline = require('readline');
(async () => {
  const { browser, page, log } = await h.open();
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    await page.goto(line.trim());
    process.stdout.write('ok\n');
  }
  await browser.close();
  h.done({ log });
})().catch(h.fail);
