// The studio end to end in headless Chromium, against `tarn server` on the demo lake
// (run by run_browser_tests.sh). The tests run in order and build on each other.
import { test as base, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { URL, launch, newPage, signIn, setSql, gridRows, screenshot, consoleErrors } from './browser.mjs';

// Every test has a time limit, so that a page that never shows what a test waits for
// fails the test instead of hanging the run.
const test = (name, fn) => base(name, { timeout: 90000 }, fn);

let browser;
const pages = {};
let workspaceId = '';

before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});

test('a wrong password is refused on the sign-in page', async () => {
  const page = await newPage(browser);
  await page.goto(`${URL}/studio/`);
  await page.waitForURL(/\/oauth2\/authorize/);
  await page.fill('#username', 'analyst1');
  await page.fill('#password', 'not-the-password');
  const [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.click('button[type=submit]')]);
  assert.equal(res.status(), 401);
  await page.getByText('Wrong user name or password.').waitFor();
  assert.match(page.url(), /\/oauth2\/authorize/);
  const cookies = await page.context().cookies();
  assert.equal(cookies.find((c) => c.name === 'tarn_session'), undefined);
  await page.context().close();
});

test('analyst1 signs in with the code flow; cookie flags, CSP and CSRF hold', async () => {
  const page = await newPage(browser);
  pages.analyst = page;
  const seen = [];
  page.on('response', (r) => { if (r.url() === `${URL}/studio/`) seen.push(r); });
  await signIn(page, 'analyst1');
  assert.equal(await page.getByTestId('user').textContent(), 'analyst1');
  const session = (await page.context().cookies()).find((c) => c.name === 'tarn_session');
  assert.ok(session, 'a session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  assert.equal(session.path, '/');
  const html = seen.at(-1);
  const csp = (await html.allHeaders())['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal((await html.allHeaders())['x-content-type-options'], 'nosniff');
  // The page's script cannot read the cookie, and a state change without the CSRF token is refused.
  assert.doesNotMatch(await page.evaluate(() => document.cookie), /tarn_session/);
  const noToken = await page.evaluate(async () => {
    const r = await fetch('/v1/workspaces', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"name":"x"}' });
    return { status: r.status, body: await r.json() };
  });
  assert.equal(noToken.status, 403);
  assert.match(noToken.body.error.message, /CSRF/);
  const wrongToken = await page.evaluate(async () => {
    const r = await fetch('/v1/workspaces', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': 'forged' }, body: '{"name":"x"}' });
    return r.status;
  });
  assert.equal(wrongToken, 403);
  const list = await page.evaluate(async () => (await (await fetch('/v1/workspaces')).json()).workspaces.length);
  assert.equal(list, 0, 'no workspace was made by the refused requests');
});

test('analyst1 runs a query and sees EU rows only, with masked emails', async () => {
  const page = pages.analyst;
  await page.fill('[aria-label="New workspace name"]', 'EU customers');
  await page.click('text=New workspace');
  await page.waitForURL(/#\/workspaces\/ws-/);
  workspaceId = page.url().split('/').pop();
  await setSql(page, 'SELECT customer_id, email, region FROM sales.customers ORDER BY customer_id LIMIT 40');
  await page.keyboard.press('Control+Enter');
  const cell = page.locator('section.cell').first();
  await cell.getByTestId('row-count').waitFor();
  assert.equal(await cell.getByTestId('row-count').textContent(), '40 rows');
  const rows = await gridRows(cell);
  assert.ok(rows.length >= 10, `rows in view: ${rows.length}`);
  for (const [, email, region] of rows) {
    assert.equal(region, 'EU');
    assert.match(email, /^\*\*\*@/);
  }
  // The whole result downloads as a workbook, with the same governed rows.
  const [download] = await Promise.all([page.waitForEvent('download'), cell.getByRole('button', { name: 'Excel' }).click()]);
  assert.equal(download.suggestedFilename(), 'cell-1.xlsx');
  const bytes = fs.readFileSync(await download.path());
  assert.equal(bytes.subarray(0, 2).toString(), 'PK', 'an .xlsx is a zip');
  await screenshot(page, 'notebook');
});

test('a chart is drawn from a result and saved with the workspace', async () => {
  const page = pages.analyst;
  await page.click('text=+ SQL');
  await setSql(page, 'SELECT country, count(*) AS customers FROM sales.customers GROUP BY ALL ORDER BY country', 1);
  await page.keyboard.press('Control+Enter');
  const cell = page.locator('section.cell').nth(1);
  await cell.getByTestId('row-count').waitFor();
  await cell.getByText('Add chart').click();
  const canvas = cell.getByTestId('chart');
  await canvas.waitFor();
  const drawn = await canvas.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) ink++;
    return { width: c.width, ink };
  });
  assert.ok(drawn.width > 100 && drawn.ink > 1000, JSON.stringify(drawn));
  await cell.getByLabel('Chart type').selectOption('line');
  await page.click('button:text-is("Save")');
  await page.getByText(/Saved revision 2/).waitFor();
  assert.equal(await canvas.count(), 1, 'the chart stays after saving');
  await canvas.scrollIntoViewIfNeeded();
  await screenshot(page, 'chart');
});

test('a 100,000-row result scrolls to its last row with few rows in the page', async () => {
  const page = pages.analyst;
  await page.click('text=+ SQL');
  await setSql(page, 'SELECT i, i * 2 AS doubled FROM range(100000) t(i) ORDER BY i', 2);
  await page.keyboard.press('Control+Enter');
  const cell = page.locator('section.cell').nth(2);
  await cell.getByTestId('row-count').waitFor();
  assert.equal(await cell.getByTestId('row-count').textContent(), '100,000 rows');
  const grid = cell.locator('.grid');
  await grid.evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await cell.locator('[aria-rowindex="100001"] [role=gridcell]').first().waitFor();
  await page.waitForFunction(() => document.querySelector('[aria-rowindex="100001"] [role=gridcell]')?.textContent === '99999');
  const last = await gridRows(cell);
  assert.deepEqual(last.at(-1), ['99999', '199998']);
  assert.ok(last.length < 60, `rows in the page: ${last.length}`);
  await grid.evaluate((el) => { el.scrollTop = el.scrollHeight / 2; });
  await page.waitForFunction(() => document.querySelector('[aria-rowindex="50001"] [role=gridcell]')?.textContent === '49999');
  await cell.getByRole('button', { name: 'Delete cell 3' }).click();
});

test('after a reload the workspace is listed and opens with its cells and chart', async () => {
  const page = pages.analyst;
  await page.goto(`${URL}/studio/#/workspaces`);
  await page.reload();
  await page.getByRole('link', { name: 'EU customers' }).click();
  await page.waitForURL(new RegExp(workspaceId));
  await page.locator('.cm-content').nth(1).waitFor();
  const sources = await page.locator('.cm-content').allTextContents();
  assert.equal(sources.length, 2);
  assert.match(sources[1], /GROUP BY ALL/);
  const ws = await page.evaluate(async (id) => (await fetch(`/v1/workspaces/${id}`)).json(), workspaceId);
  assert.equal(ws.revision, 2);
  assert.deepEqual(ws.cells[1].chart.type, 'line');
  assert.deepEqual(ws.cells[1].chart.y, ['customers']);
});

test('shared with engineer1, who runs it as themself and sees their own view', async () => {
  const page = pages.analyst;
  await page.click('button:text-is("Share")');
  await page.click('text=Add a person or group');
  await page.fill('[aria-label="Name to share with"]', 'engineer1');
  await page.click('text=Save sharing');
  await page.getByText('Sharing saved.').waitFor();

  const eng = await newPage(browser);
  pages.engineer = eng;
  await signIn(eng, 'engineer1');
  await eng.getByRole('link', { name: 'EU customers' }).click();
  await eng.getByText('shared with you (read)').waitFor();
  assert.equal(await eng.locator('button:text-is("Save")').count(), 0, 'a reader cannot save');
  await eng.locator('section.cell').first().getByRole('button', { name: 'Run' }).click();
  const error = eng.locator('section.cell').first().locator('.error');
  await error.waitFor();
  assert.match(await error.textContent(), /sales\.customers does not exist/);
  const save = await eng.evaluate(async (id) => {
    const s = await (await fetch('/studio/api/session')).json();
    const r = await fetch(`/v1/workspaces/${id}`, { method: 'PUT', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token }, body: JSON.stringify({ name: 'mine', cells: [], base_revision: 2 }) });
    return r.status;
  }, workspaceId);
  assert.equal(save, 403);
});

test('"why can\'t I see phone" is answered in the catalog', async () => {
  const page = pages.analyst;
  await page.goto(`${URL}/studio/#/catalog/sales/customers`);
  await page.getByRole('cell', { name: 'customer_id' }).first().waitFor();
  const columns = await page.locator('table.list').first().locator('tbody tr td:first-child').allTextContents();
  assert.ok(!columns.includes('phone') && columns.includes('email'), columns.join(','));
  await page.fill('input[placeholder="column name"]', 'phone');
  await page.click('text=Explain');
  const answer = page.getByTestId('why-answer');
  await answer.waitFor();
  const text = await answer.textContent();
  assert.match(text, /phone is not a column of sales\.customers that you may read/);
  assert.match(text, /eu_customers/);
  await answer.scrollIntoViewIfNeeded();
  await screenshot(page, 'catalog');
});

test('a job is submitted, watched live and cancelled', async () => {
  const page = pages.analyst;
  await page.goto(`${URL}/studio/#/jobs/default`);
  await page.getByText('Submit a SQL job').waitFor();
  await setSql(page, 'SELECT count(*) FROM sales.orders a, sales.orders b, sales.orders c WHERE a.amount + b.amount > c.amount');
  await page.click('button:text-is("Submit")');
  const state = page.getByTestId('run-state');
  await page.waitForFunction(() => document.querySelector('[data-testid=run-state]')?.textContent === 'RUNNING', null, { timeout: 30000 });
  await screenshot(page, 'jobs');
  await page.click('text=Cancel run');
  await page.waitForFunction(() => document.querySelector('[data-testid=run-state]')?.textContent === 'CANCELLED', null, { timeout: 30000 });
  assert.equal(await state.textContent(), 'CANCELLED');
  // A schedule made with the form is listed with its next fire time, and deleted.
  const schedules = page.getByRole('region', { name: 'Schedules' });
  await schedules.getByLabel('Name').fill('nightly');
  await schedules.getByLabel('Cron (minute hour day month weekday)').fill('30 2 * * *');
  await schedules.getByRole('button', { name: 'Create schedule' }).click();
  const row = schedules.getByRole('row', { name: /nightly/ });
  await row.waitFor();
  assert.match(await row.textContent(), /30 2 \* \* \*UTC\d{4}-\d\d-\d\dT02:30/);
  await row.getByRole('button', { name: 'Delete' }).click();
  await schedules.getByText('Schedule deleted.').waitFor();
  await row.waitFor({ state: 'detached' });
});

test('an admin grants a column and the analyst\'s next run shows it', async () => {
  const page = pages.analyst;
  await page.goto(`${URL}/studio/#/workspaces/${workspaceId}`);
  await setSql(page, 'SELECT account, amount FROM finance.ledger ORDER BY account, amount LIMIT 5');
  await page.keyboard.press('Control+Enter');
  const cell = page.locator('section.cell').first();
  await cell.locator('.error').waitFor();
  assert.match(await cell.locator('.error').textContent(), /finance\.ledger does not exist/);

  const admin = await newPage(browser);
  await signIn(admin, 'admin');
  await admin.goto(`${URL}/studio/#/admin`);
  const form = admin.getByRole('region', { name: 'Grant on a table' });
  await form.getByLabel('columns').fill('account, amount');
  await form.getByLabel('table').fill('finance.ledger');
  await form.getByLabel('Grantee kind').selectOption('USER');
  await form.getByLabel('name').fill('analyst1');
  assert.equal(await form.getByTestId('admin-sql').textContent(), 'GRANT SELECT (account, amount) ON TABLE finance.ledger TO USER analyst1');
  await form.getByRole('button', { name: 'Run' }).click();
  await form.getByText('Done.').waitFor();
  await screenshot(admin, 'admin');
  await admin.context().close();

  await cell.getByRole('button', { name: 'Run' }).click();
  await cell.getByTestId('row-count').waitFor();
  assert.equal(await cell.getByTestId('row-count').textContent(), '5 rows');
});

test('an auditor finds those events', async () => {
  const page = await newPage(browser);
  await signIn(page, 'auditor1');
  await page.goto(`${URL}/studio/#/audit`);
  await page.getByLabel('User').fill('analyst1');
  await page.getByLabel('Table or text in the statement').fill('finance.ledger');
  await page.click('button:text-is("Search")');
  await page.getByTestId('row-count').waitFor();
  const rows = await gridRows(page);
  const outcomes = rows.map((r) => r[6]);
  assert.ok(outcomes.includes('ok') && outcomes.some((o) => o !== 'ok'), outcomes.join(','));
  assert.ok(rows.every((r) => r[2] === 'analyst1'));
  await page.click('text=Verify the chain');
  await page.getByText(/^The chain holds: [\d,]+ events in \d+ segments\.$/).waitFor();
  await screenshot(page, 'audit');

  await page.getByLabel('User').fill('admin');
  await page.getByLabel('Table or text in the statement').fill('GRANT SELECT (account, amount)');
  await page.click('button:text-is("Search")');
  await page.waitForFunction(() => [...document.querySelectorAll('.gr:not(.gh) [role=gridcell]')].some((c) => c.textContent.startsWith('GRANT SELECT (account, amount)')));
  await page.context().close();
});

test('a validation run\'s HTML report opens embedded on the Quality page', async () => {
  const page = await newPage(browser);
  await signIn(page, 'admin');
  const id = await page.evaluate(async () => {
    const s = await (await fetch('/studio/api/session')).json();
    const spec = 'name: orders_copy\nsource: sales.products\ntarget: sales.products\nkeys: product_id\n';
    const r = await fetch('/v1/applications/default/jobruns', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf_token },
      body: JSON.stringify({ name: 'products check', job: { type: 'validation', spec } }),
    });
    return (await r.json()).job_run_id;
  });
  assert.match(id, /^jr-/);
  let state = '';
  for (let i = 0; i < 120 && state !== 'SUCCESS'; i++) {
    const r = await page.context().request.get(`${URL}/v1/applications/default/jobruns/${id}`);
    state = (await r.json()).state;
    if (state === 'FAILED' || state === 'CANCELLED') break;
    await new Promise((done) => setTimeout(done, 250));
  }
  assert.equal(state, 'SUCCESS');
  await page.goto(`${URL}/studio/#/quality`);
  const row = page.getByRole('row', { name: /products check/ });
  await row.getByRole('button', { name: 'Files' }).click();
  await row.getByRole('button', { name: 'report.html' }).click();
  const frame = page.frameLocator('iframe.report');
  await frame.getByText(/orders_copy/).first().waitFor();
  await page.locator('iframe.report').scrollIntoViewIfNeeded();
  await screenshot(page, 'quality');
  await page.context().close();
});

test('signing out ends the session', async () => {
  const page = pages.engineer;
  await page.click('button:text-is("Sign out")');
  await page.waitForURL(/\/oauth2\/authorize/);
  const res = await page.context().request.get(`${URL}/studio/api/session`);
  assert.equal(res.status(), 401);
});

test('no page logged a console error', () => {
  assert.deepEqual(consoleErrors, []);
});
