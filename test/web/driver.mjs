// A headless Chromium driven by the Go test (web_test.go) over stdin and
// stdout: one JSON command a line in, one JSON answer a line out. The Go
// test plays the phone and the other users; this side only does what a
// person does in the browser (look, click, type, pick a file) and reads
// the QR code off a screenshot.
import { createInterface } from 'node:readline';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { PNG } from 'pngjs';
import jsQR from 'jsqr';

const artifacts = process.env.PARLEY_WEB_ARTIFACTS || 'artifacts';
mkdirSync(artifacts, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox',
  // calls: a fake camera and microphone, granted without asking; media plays without a gesture
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--autoplay-policy=no-user-gesture-required',
  // a name for 127.0.0.1 that is not "localhost": a page there is not a secure context
  '--host-resolver-rules=MAP parley-insecure.test 127.0.0.1'] });
const context = await browser.newContext({ viewport: { width: 1100, height: 700 } });
const pages = [];
async function addPage(ctx = context) {
  const p = await ctx.newPage();
  const n = pages.length;
  p.on('console', (m) => process.stderr.write(`[page${n ? n + 1 : ''} ${m.type()}] ${m.text()}\n`));
  p.on('pageerror', (e) => process.stderr.write(`[page${n ? n + 1 : ''} error] ${e.message}\n`));
  pages.push(p);
  return p;
}
let page = await addPage(); // the page commands act on; a second tab shares its storage
let shots = 0;

const ops = {
  async open({ url }) { await page.goto(url); },
  async newPage() { page = await addPage(); return pages.length - 1; },
  // newUser opens a page in a new browser context (its own storage: another account's device).
  async newUser() { page = await addPage(await browser.newContext({ viewport: { width: 1100, height: 700 } })); return pages.length - 1; },
  async usePage({ index }) { page = pages[index]; await page.bringToFront(); },
  async reload() { await page.reload(); },
  async qr({ name }) {
    const el = page.getByTestId('qr');
    await el.waitFor({ state: 'visible' });
    const path = join(artifacts, `${String(++shots).padStart(2, '0')}-${name || 'qr'}.png`);
    await el.screenshot({ path });
    const png = PNG.sync.read(readFileSync(path));
    const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    if (!code) throw new Error('no QR code found in ' + path);
    return code.data;
  },
  async wait({ selector, state = 'visible', timeout = 10000 }) { await page.locator(selector).first().waitFor({ state, timeout }); },
  async waitText({ selector, text, timeout = 10000 }) {
    await page.waitForFunction(([s, t]) => [...document.querySelectorAll(s)].some((e) => e.textContent.includes(t)), [selector, text], { timeout });
  },
  async waitAttr({ selector, attr, value, timeout = 10000 }) {
    await page.waitForFunction(([s, a, v]) => { const e = document.querySelector(s); return e && e.getAttribute(a) === v; }, [selector, attr, value], { timeout });
  },
  async text({ selector }) { return (await page.locator(selector).first().textContent()) || ''; },
  async attr({ selector, attr }) { return page.locator(selector).first().getAttribute(attr); },
  async count({ selector }) { return page.locator(selector).count(); },
  async click({ selector }) { await page.locator(selector).first().click(); },
  async fill({ selector, text }) { await page.locator(selector).first().fill(text); },
  async type({ selector, text }) { await page.locator(selector).first().pressSequentially(text, { delay: 10 }); },
  async press({ selector, key }) { await page.locator(selector).first().press(key); },
  async focus({ selector }) { await page.locator(selector).first().focus(); },
  async keyboard({ key }) { await page.keyboard.press(key); },
  async setFile({ selector, path }) { await page.locator(selector).setInputFiles(path); },
  async eval({ expr, timeout = 10000 }) {
    let timer;
    const limit = new Promise((_, bad) => { timer = setTimeout(() => bad(new Error(`no answer within ${timeout} ms: ${expr}`)), timeout); });
    try { return await Promise.race([page.evaluate(expr), limit]); } finally { clearTimeout(timer); }
  },
  async screenshot({ name }) {
    const path = join(artifacts, `${String(++shots).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path });
    return path;
  },
  async close() { await browser.close(); process.exit(0); },
};

const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  let cmd;
  try {
    cmd = JSON.parse(line);
    const value = await ops[cmd.op](cmd);
    process.stdout.write(JSON.stringify({ ok: true, value: value === undefined ? null : value }) + '\n');
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: `${cmd ? cmd.op : '?'}: ${e.message}` }) + '\n');
  }
}
await browser.close();
