// ui_live.js URL [SCREENSHOT] — watches `loadplan apply --ui` in Chromium: waits until the run's
// charts have points and the table counts requests, optionally takes the README's screenshot,
// presses Stop, waits for the final summary, and reports what the page showed.
const h = require(process.env.LOADPLAN_HARNESS);
(async () => {
  const [url, shot] = process.argv.slice(2);
  const { browser, page, log } = await h.open({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url);
  // Two points on the charts and requests in the table: the stream is flowing.
  await page.waitForFunction(() => {
    const ui = window.loadplanUI;
    const charts = ui && ui.view ? ui.charts() : [];
    return ui.frames >= 3 && charts.length >= 3 && charts.every((c) => c.data[0].length >= 3) &&
      Number((document.getElementById('lp-total-requests') || {}).textContent?.replace(/,/g, '')) > 0;
  }, null, { timeout: 30000 });
  const during = await page.evaluate(() => {
    const points = {};
    for (const c of window.loadplanUI.charts()) {
      points[c.key] = c.data.slice(1).map((s) => s.filter((v) => v !== null && v !== undefined && v > 0).length);
    }
    return { state: document.body.dataset.state, frames: window.loadplanUI.frames, points,
      stopEnabled: !document.getElementById('stop').disabled };
  });
  if (shot) await page.screenshot({ path: shot, fullPage: true });
  await page.click('#stop');
  await page.waitForSelector('body[data-state="done"]', { timeout: 60000 });
  await page.waitForSelector('.loadplan-view[data-final="true"]', { timeout: 30000 });
  const after = await page.evaluate(() => ({
    total: Number(document.getElementById('lp-total-requests').textContent.replace(/,/g, '')),
    // the per-step table: its rows' request counts (the third cell), summed
    table: [...document.querySelectorAll('.lp-steps tbody tr:not(.lp-sum)')]
      .reduce((a, tr) => a + Number(tr.cells[2].textContent.replace(/,/g, '')), 0),
    badge: document.querySelector('#lp-verdict').textContent,
    verdict: document.getElementById('verdict').textContent,
    files: [...document.querySelectorAll('#files a')].map((a) => a.textContent),
    summary: document.getElementById('summary').textContent,
    stopDisabled: document.getElementById('stop').disabled,
  }));
  // One file downloaded through the page's own link, to check it is served.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#files a')]);
  after.downloaded = dl.suggestedFilename();
  after.downloadFailure = await dl.failure();
  await page.waitForTimeout(200);
  await browser.close();
  h.done({ during, after, log });
})().catch(h.fail);
