// ui_session.js URL HOST [SCREENSHOT] — `loadplan ui` in Chromium as a Locust user works it:
// pick the plan ok.hcl, set the host, users and run time, press Start, wait for the run to end
// and appear in the history, and report the history row, the invalid plan's diagnostics and the
// page's log.
const h = require(process.env.LOADPLAN_HARNESS);
(async () => {
  const [url, host, shot] = process.argv.slice(2);
  const { browser, page, log } = await h.open({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url);
  await page.waitForSelector('#plans li[data-path$="ok.hcl"]');
  const invalid = await page.textContent('#plans li.invalid');
  await page.click('#plans li[data-path$="ok.hcl"]');
  const hostLabel = await page.textContent('#form-vars label:first-child');
  await page.fill('input[name="var.host"]', host);
  await page.fill('input[name="vus"]', '2');
  await page.fill('input[name="duration"]', '2s');
  await page.click('#start');
  await page.waitForSelector('body[data-state="running"]', { timeout: 30000 });
  await page.waitForSelector('#history tr[data-id="1"]', { timeout: 60000 });
  if (shot) {
    await page.waitForSelector('.loadplan-view[data-final="true"]', { timeout: 30000 });
    await page.screenshot({ path: shot, fullPage: true });
  }
  const row = await page.evaluate(() => {
    const tr = document.querySelector('#history tr[data-id="1"]');
    return {
      code: Number(tr.dataset.code),
      cells: [...tr.cells].map((c) => c.textContent),
      requests: Number(tr.querySelector('.requests').textContent.replace(/,/g, '')),
      files: [...tr.querySelectorAll('a')].map((a) => a.textContent),
    };
  });
  const startEnabled = await page.evaluate(() => !document.getElementById('start').disabled);
  await browser.close();
  h.done({ invalid, hostLabel, row, startEnabled, log });
})().catch(h.fail);
