// report_page.js opens each report file given (file:// URLs) in one headless Chromium, waits
// for view.js to draw it, and reports per page what it shows: the verdict, the totals, each
// chart's points read from uPlot's own data, the step table's rows and the threshold rows; and
// the harness's log of the page (console errors, page errors, requests). With
// LOADPLAN_SCREENSHOT=FILE the first page is saved there as a PNG: 1280 px wide, its top 1700 px
// (the verdict, the totals, the charts, the thresholds and the step table).
const h = require(process.env.LOADPLAN_HARNESS);
(async () => {
  const pages = [];
  for (const url of process.argv.slice(2)) {
    const { browser, page, log } = await h.open({ viewport: { width: 1280, height: 900 } });
    await page.goto(url);
    await page.waitForSelector('#lp-verdict');
    await page.waitForFunction(() => document.querySelectorAll('.lp-chart canvas').length >= 3);
    const res = await page.evaluate(() => {
      const el = document.getElementById('loadplan');
      const rows = (sel) => Array.from(document.querySelectorAll(sel + ' tbody tr')).map((tr) =>
        Array.from(tr.children).map((td) => td.textContent));
      return {
        verdict: document.getElementById('lp-verdict').textContent,
        requests: document.getElementById('lp-total-requests').textContent,
        failures: document.getElementById('lp-total-failures').textContent,
        title: document.title,
        charts: window.loadplanView.charts(el).map((c) => ({
          key: c.key,
          x: c.data[0].length,
          points: c.data.slice(1).map((col) => col.filter((v) => typeof v === 'number').length),
          sums: c.data.slice(1).map((col) => col.reduce((a, v) => a + (typeof v === 'number' ? v : 0), 0)),
        })),
        steps: rows('.lp-steps'),
        thresholds: rows('.lp-thresholds'),
        vars: rows('.lp-vars'),
        text: document.body.innerText,
      };
    });
    if (pages.length === 0 && process.env.LOADPLAN_SCREENSHOT) {
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      await page.screenshot({ path: process.env.LOADPLAN_SCREENSHOT, fullPage: true,
        clip: { x: 0, y: 0, width: 1280, height: Math.min(height, 1700) } });
    }
    await page.waitForTimeout(100); // late console errors
    await browser.close();
    res.log = log;
    pages.push(res);
  }
  h.done({ pages });
})().catch(h.fail);
