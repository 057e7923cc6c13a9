// probe.js opens the page given as its argument and reports its title, the text of #n and the
// harness's log. Used by browsertest's own test.
const h = require(process.env.LOADPLAN_HARNESS);
(async () => {
  const { browser, page, log } = await h.open();
  await page.goto(process.argv[2]);
  await page.waitForSelector('#n');
  const title = await page.title();
  const n = await page.textContent('#n');
  await page.waitForTimeout(200);
  await browser.close();
  h.done({ title, n, log });
})().catch(h.fail);
