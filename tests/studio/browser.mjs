// Helpers of the studio's browser tests: Chromium through playwright-core (from web/),
// sign-in through the real authorization-code flow, console errors collected per page.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

export const URL = process.env.TARN_URL;
export const PASSWORDS = {
  admin: 'admin-demo-pw',
  analyst1: 'analyst1-demo-pw',
  engineer1: 'engineer1-demo-pw',
  auditor1: 'auditor1-demo-pw',
};

// Console errors and uncaught exceptions of every page. A failed request the test
// expects (a 4xx answer) shows in the console as "Failed to load resource"; those
// are network notes, kept apart from script errors and CSP violations.
export const consoleErrors = [];

export async function launch() {
  // Playwright starts Chromium with a new empty profile of its own.
  return chromium.launch({
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: [
          '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
          '--disable-component-update', '--disable-sync',
        ],
      });
}

export async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: URL });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource: the server responded with a status of 4'))
      consoleErrors.push(`${page.url()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`${page.url()}: ${err.message}`));
  return page;
}

// Opens the studio, which sends a signed-out browser to the sign-in page, and signs in.
export async function signIn(page, user, password = PASSWORDS[user]) {
  await page.goto(`${URL}/studio/`);
  await page.waitForURL(/\/oauth2\/authorize/);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(/\/studio\/(#.*)?$/);
  await page.getByTestId('user').waitFor();
}

// Replaces the text of the n-th SQL editor on the page.
export async function setSql(page, text, n = 0) {
  const editor = page.locator('.cm-content').nth(n);
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
}

// The cells of the grid's rows in view, as arrays of text.
export async function gridRows(scope) {
  return scope.locator('.gr:not(.gh)').evaluateAll((rows) =>
    rows.map((r) => Array.from(r.querySelectorAll('[role=gridcell]'), (c) => c.textContent)),
  );
}

export async function screenshot(page, name) {
  const dir = process.env.TARN_STUDIO_SCREENSHOTS;
  if (dir) await page.screenshot({ path: path.join(dir, `studio-${name}.png`) });
}
