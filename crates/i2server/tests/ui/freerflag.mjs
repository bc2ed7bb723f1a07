// A scientist's whole job in the browser, driven by playwright-core in headless Chromium
// (started by crates/i2server/tests/ui_browser.rs against the real binary on loopback):
// create a project, choose freerflag, upload rnase25_fsigf.mtz choosing F/SIGF, run, watch
// the status reach Finished without a page reload, open the report, download FREEROUT.mtz.
// Then four more jobs for the project screenshot. Prints one JSON line with what it did.
//
// Environment: I2_UI_BASE (http://127.0.0.1:PORT), I2_UI_MTZ, I2_UI_DOWNLOAD (where to save
// FREEROUT.mtz), I2_UI_SHOTS (screenshot directory), I2_NODE_MODULES, I2_CHROMIUM.
import { createRequire } from "node:module";
import path from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const require = createRequire(path.join(env("I2_NODE_MODULES"), "noop.js"));
const { chromium } = require("playwright-core");

const base = env("I2_UI_BASE");
const shots = env("I2_UI_SHOTS");
const step = (s) => console.error(`[ui] ${s}`);

const browser = await chromium.launch({
  executablePath: env("I2_CHROMIUM"),
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
  ],
});
// launch() gives a fresh temporary profile (its own --user-data-dir) every run.
const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
const page = await context.newPage();
const problems = [];
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
// Failed requests are checked by URL below (the console only says "failed to load").
page.on("console", (m) => {
  if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console: ${m.text()}`);
});
let refusalExpected = false;
page.on("response", (r) => {
  if (r.status() >= 400 && !(refusalExpected && r.url().endsWith("/set_parameter/"))) {
    problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`);
  }
});
page.setDefaultTimeout(30000);

// A list parameter (aimless_pipe's NUMBER_OF_DATASETS, integers): add two items, give them
// values, remove the first. Each step redraws the form from the saved parameters; returns
// the item values seen after each step.
const listEdits = [];
async function editList(page) {
  step("job form: add and remove items of a list");
  const list = 'fieldset.list[data-path$=".NUMBER_OF_DATASETS"]';
  const values = () => page.$$eval(`${list} .list-item input`, (is) => is.map((i) => i.value));
  const count = (n) => page.waitForFunction(([sel, n]) =>
    document.querySelector(sel) && document.querySelectorAll(`${sel} .list-item`).length === n, [list, n]);
  const seen = [];
  await page.click(`${list} button[data-action="list-add"]`);
  await count(1);
  const first = page.locator(`${list} .list-item input`).first();
  await first.fill("2");
  await first.press("Tab");
  await page.locator(`${list} .list-item .msg`, { hasText: "saved" }).first().waitFor();
  seen.push(await values());
  await page.click(`${list} button[data-action="list-add"]`);
  await count(2);
  const second = page.locator(`${list} .list-item input`).nth(1);
  await second.fill("3");
  await second.press("Tab");
  await page.locator(`${list} .list-item .msg`, { hasText: "saved" }).first().waitFor();
  seen.push(await values());
  await page.locator(list).screenshot({ path: path.join(shots, "job-list.png") });
  await page.click(`${list} .list-item[data-index="0"] button[data-action="list-remove"]`);
  await count(1);
  seen.push(await values());
  return seen;
}

try {
  step("projects page: create a project");
  await page.goto(`${base}/`);
  await page.waitForURL(/\/ui\/projects\/$/);
  await page.fill("#new-project-name", "rnase_ui");
  await page.press("#new-project-name", "Enter");
  await page.waitForURL(/\/ui\/projects\/\d+\/$/);
  const projectId = Number(page.url().match(/projects\/(\d+)\//)[1]);

  step("task chooser: find freerflag");
  await page.click("text=New job…");
  await page.waitForURL(/\/tasks\/$/);
  await page.fill("#task-search", "freerflag");
  const choice = page.locator('button[data-task="freerflag"]');
  await choice.waitFor({ state: "visible" });
  if (await page.locator('#task-groups li[data-search]:not([hidden])').count() > 20) {
    throw new Error("the task search did not filter the catalogue");
  }
  // By keyboard: from the search box, Tab reaches the task, Enter chooses it.
  let tabs = 0;
  while (!(await page.evaluate(() => document.activeElement?.dataset?.task === "freerflag"))) {
    if (++tabs > 8) throw new Error("the freerflag task cannot be reached with Tab from the search box");
    await page.keyboard.press("Tab");
  }
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/ui\/jobs\/\d+\/$/);
  const jobId = Number(page.url().match(/jobs\/(\d+)\//)[1]);

  step("job form: upload rnase25_fsigf.mtz choosing F and SIGF");
  const fs = page.locator('fieldset.file[data-path$=".F_SIGF"]');
  await fs.locator('input[type="file"]').setInputFiles(env("I2_UI_MTZ"));
  await fs.locator(".column-list input").first().waitFor();
  await fs.locator('.column-list input[value="F"]').check();
  await fs.locator('.column-list input[value="SIGF"]').check();
  // A value the API refuses shows its message beside the input.
  const frac = page.locator('input[data-path$=".FRAC"]');
  refusalExpected = true;
  await frac.fill("7");
  await frac.press("Tab");
  const fracMsg = page.locator(`#${await frac.getAttribute("aria-describedby")}`);
  await fracMsg.filter({ hasText: /\S/ }).waitFor();
  const fracText = (await fracMsg.textContent()).trim();
  await frac.fill("0.05");
  await frac.press("Tab");
  await fracMsg.filter({ hasText: "saved" }).waitFor();
  refusalExpected = false;
  await page.screenshot({ path: path.join(shots, "job-form.png"), fullPage: true });
  await fs.locator('button[data-action="upload-file"]').click();
  await fs.locator(".msg", { hasText: "uploaded" }).waitFor({ timeout: 60000 });
  const current = (await fs.locator(".current-name").textContent()).trim();

  step("run, and watch the status without reloading (on the job page and on the project page)");
  const watcher = await context.newPage();
  watcher.on("pageerror", (e) => problems.push(`project page error: ${e.message}`));
  await watcher.goto(`${base}/ui/projects/${projectId}/`);
  await watcher.evaluate(() => { window.__sameDocument = "yes"; });
  await page.evaluate(() => { window.__sameDocument = "yes"; });
  await page.focus('button[data-action="run-job"]');
  await page.keyboard.press("Enter");
  const seen = [];
  const deadline = Date.now() + 300000;
  for (;;) {
    const s = (await page.locator("#job-status .badge").textContent()).trim();
    if (seen[seen.length - 1] !== s) seen.push(s);
    if (["Finished", "Failed", "Interrupted", "Unsatisfactory"].includes(s)) break;
    if (Date.now() > deadline) throw new Error(`no final status in time; saw ${seen.join(" → ")}`);
    await page.waitForTimeout(250);
  }
  const sameDocument = await page.evaluate(() => window.__sameDocument === "yes");
  await watcher.locator(`#job-tree tr[data-job="${jobId}"] .badge`, { hasText: "Finished" }).waitFor({ timeout: 15000 });
  const projectLive = await watcher.evaluate(() => window.__sameDocument === "yes");
  await watcher.close();
  const logLines = (await page.locator("#log-tail").textContent()).split("\n").filter(Boolean).length;

  step("report and download");
  await page.locator("#report .report").waitFor({ timeout: 30000 });
  const reportText = (await page.locator("#report").innerText()).slice(0, 2000);
  // The report's graphs, drawn by the server as SVG: the points of every plotted line.
  const graphPoints = await page.evaluate(() =>
    [...document.querySelectorAll("#report svg.graph polyline")]
      .map((p) => (p.getAttribute("points") || "").trim().split(/\s+/).filter(Boolean).length));
  await page.locator("#report").scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(shots, "job-report.png"), fullPage: true });
  const link = page.locator('#outputs a[data-param="FREEROUT"]');
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  await download.saveAs(env("I2_UI_DOWNLOAD"));

  step("clone the finished job; make and delete a job; three more jobs; the project page");
  await page.click('button[data-action="clone-job"]');
  await page.waitForURL((u) => /\/ui\/jobs\/\d+\/$/.test(u.pathname) && !u.pathname.endsWith(`/jobs/${jobId}/`));
  const cloneStatus = (await page.locator("#job-status .badge").textContent()).trim();
  // An earlier job's output as an input: job 1's FREEROUT as the clone's existing free-R set.
  const freer = page.locator('fieldset.file[data-path$=".FREERFLAG"]');
  const option = await freer.locator("select option", { hasText: "FREEROUT.mtz" }).getAttribute("value");
  await freer.locator("select").selectOption(option);
  await freer.locator(".msg").filter({ hasText: /\S/ }).waitFor();
  const pickedMsg = (await freer.locator(".msg").textContent()).trim();
  const picked = (await freer.locator(".current-name").textContent()).trim();
  await page.goto(`${base}/ui/projects/${projectId}/tasks/`);
  await page.fill("#task-search", "ctruncate");
  await page.click('button[data-task="ctruncate"]');
  await page.waitForURL(/\/ui\/jobs\/\d+\/$/);
  const doomed = Number(page.url().match(/jobs\/(\d+)\//)[1]);
  await page.click('button[data-action="delete-job"]');
  await page.locator("dialog").waitFor();
  const dialogText = await page.locator("dialog").innerText();
  await page.locator("dialog button.danger").click();
  await page.waitForURL(new RegExp(`/ui/projects/${projectId}/$`));
  const deletedGone = (await page.locator(`#job-tree tr[data-job="${doomed}"]`).count()) === 0;
  for (const task of ["ctruncate", "aimless_pipe", "servalcat_pipe"]) {
    await page.goto(`${base}/ui/projects/${projectId}/tasks/`);
    await page.fill("#task-search", task);
    await page.click(`button[data-task="${task}"]`);
    await page.waitForURL(/\/ui\/jobs\/\d+\/$/);
    if (task === "aimless_pipe") listEdits.push(...(await editList(page)));
  }
  await page.goto(`${base}/ui/projects/${projectId}/`);
  const jobRows = await page.locator("#job-tree tr[data-job]").count();
  const finishedRow = (await page.locator(`#job-tree tr[data-job="${jobId}"] .badge`).textContent()).trim();
  await page.screenshot({ path: path.join(shots, "project.png"), fullPage: true });

  step("projects page with a few more projects");
  for (const name of ["lysozyme_soak", "thaumatin_2026", "insulin_mr"]) {
    await page.goto(`${base}/ui/projects/`);
    await page.fill("#new-project-name", name);
    await page.press("#new-project-name", "Enter");
    await page.waitForURL(/\/ui\/projects\/\d+\/$/);
  }
  // Tags are set through the API (the UI shows and filters them).
  await page.evaluate(async (pid) => {
    for (const [id, text] of [[pid, "RNase"], [pid, "training"]]) {
      await fetch(`/api/ccp4i2/projects/${id}/add_tag_by_text/`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ text }),
      });
    }
  }, projectId);
  await page.goto(`${base}/ui/projects/`);
  await page.screenshot({ path: path.join(shots, "projects.png"), fullPage: true });
  const tagged = await page.locator("#projects .tag", { hasText: "RNase" }).count();
  const projectRows = await page.locator("#projects tbody tr").count();

  console.log(JSON.stringify({
    projectId, jobId, current, fracText, seen, sameDocument, logLines, reportText, graphPoints, listEdits,
    jobRows, finishedRow, projectRows, tagged, cloneStatus, pickedMsg, picked, dialogText, deletedGone, projectLive, problems,
  }));
} catch (e) {
  await page.screenshot({ path: path.join(shots, "failure.png"), fullPage: true }).catch(() => {});
  console.error(`[ui] FAILED at ${page.url()}: ${e.stack || e}`);
  console.error(`[ui] problems: ${problems.join("\n")}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
