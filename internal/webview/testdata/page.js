// page.js opens a report page (its file:// URL is the argument), waits for view.js to draw it
// and reports what the page shows: the verdict, the totals, each chart's point counts, the step
// table's request cells, and the harness's log. With a second argument, it saves a screenshot
// of the page there.
const h = require(process.env.LOADPLAN_HARNESS);
(async () => {
  const { browser, page, log } = await h.open({ viewport: { width: 1280, height: 900 } });
  await page.goto(process.argv[2]);
  await page.waitForSelector('#lp-verdict');
  await page.waitForFunction(() => document.querySelectorAll('.lp-chart canvas').length > 0);
  const res = await page.evaluate(() => {
    const el = document.getElementById('loadplan');
    const charts = window.loadplanView.charts(el).map((c) => ({
      key: c.key,
      x: c.data[0].length,
      // points per series: values that are numbers (null is a gap)
      points: c.data.slice(1).map((col) => col.filter((v) => typeof v === 'number').length),
      sums: c.data.slice(1).map((col) => col.reduce((a, v) => a + (typeof v === 'number' ? v : 0), 0)),
    }));
    const rows = Array.from(document.querySelectorAll('.lp-steps tbody tr')).map((tr) =>
      Array.from(tr.children).map((td) => td.textContent));
    return {
      verdict: document.getElementById('lp-verdict').textContent,
      requests: document.getElementById('lp-total-requests').textContent,
      failures: document.getElementById('lp-total-failures').textContent,
      title: document.title,
      charts: charts,
      rows: rows,
      vars: Array.from(document.querySelectorAll('.lp-vars tbody tr')).map((tr) => tr.textContent),
      html: document.documentElement.outerHTML.length,
    };
  });
  if (process.argv[3]) await page.screenshot({ path: process.argv[3], fullPage: true });
  await page.waitForTimeout(100);
  await browser.close();
  res.log = log;
  h.done(res);
})().catch(h.fail);
