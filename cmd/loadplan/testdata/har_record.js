// har_record.js records a HAR of the page given as argv[2] into argv[3] with headless Chromium
// (Playwright's recordHar, frames of WebSockets embedded): it waits for the page to set
// window.done, then closes the context, which writes the file. Used by import_har_test.go.
const h = require(process.env.LOADPLAN_HARNESS);
const { chromium } = require('playwright-core');
(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.LOADPLAN_CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ recordHar: { path: process.argv[3], content: 'embed' } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => { if (h.leavesMachine(r.url())) errors.push('left the machine: ' + r.url()); });
  await page.goto(process.argv[2]);
  await page.waitForFunction(() => window.done === true, null, { timeout: 20000 });
  await page.waitForTimeout(200);
  await context.close();
  await browser.close();
  h.done({ errors });
})().catch(h.fail);
