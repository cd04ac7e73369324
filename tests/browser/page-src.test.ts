/**
 * Issue 10: `/watch/x?src=wss://elsewhere` let a crafted link play another server's stream on
 * Sluice's page. The page takes `?src=` only on its own origin, unless `--page-src-origins` names the
 * other origin.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { type Browser, launchBrowser } from "./harness.ts";

let browser: Browser;
let foreign: TestSluice;
let strict: TestSluice;
let open: TestSluice;
beforeAll(async () => {
  browser = await launchBrowser();
  foreign = await startTestSluice();
  strict = await startTestSluice();
  open = await startTestSluice(["--page-src-origins", `http://127.0.0.1:${foreign.httpPort}`]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  for (const s of [foreign, strict, open]) await s?.stop();
}, 30_000);

/** Loads the page and returns the player's WebSocket URL and the page's notice once the player has connected. */
async function load(url: string): Promise<{ src: string; notice: string | null }> {
  const page = await browser.context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => customElements.get("sluice-player") !== undefined);
  await page.waitForFunction(
    () => (document.querySelector("sluice-player") as unknown as { state: string }).state === "waiting",
    undefined,
    { timeout: 10_000 },
  );
  const out = await page.evaluate(() => ({
    src: (document.querySelector("sluice-player") as unknown as { src: string }).src,
    notice: (document.getElementById("notice") as HTMLElement).hidden ? null : document.getElementById("notice")!.textContent,
  }));
  await page.close();
  return out;
}

test("a ?src= on another origin is ignored (with a notice) and the page plays its own server's stream", async () => {
  const evil = `ws://127.0.0.1:${foreign.httpPort}/ws/theirs`;
  const got = await load(`http://127.0.0.1:${strict.httpPort}/watch/mine?src=${encodeURIComponent(evil)}`);
  expect(got.src).toBe(`ws://127.0.0.1:${strict.httpPort}/ws/mine`);
  expect(got.notice).toMatch(/src parameter was ignored/);
  await strict.waitLog(/viewer-join stream=mine /);
  expect(foreign.logs.filter((l) => l.includes("viewer-join"))).toEqual([]);
}, 60_000);

test("a ?src= on the page's own origin is played", async () => {
  const got = await load(`http://127.0.0.1:${strict.httpPort}/watch/mine?src=${encodeURIComponent("/ws/other")}`);
  expect(got.src).toBe(`ws://127.0.0.1:${strict.httpPort}/ws/other`);
  expect(got.notice).toBeNull();
  await strict.waitLog(/viewer-join stream=other /);
}, 60_000);

test("--page-src-origins allows a named other origin", async () => {
  const theirs = `ws://127.0.0.1:${foreign.httpPort}/ws/theirs`;
  const got = await load(`http://127.0.0.1:${open.httpPort}/watch/x?src=${encodeURIComponent(theirs)}`);
  expect(got.src).toBe(theirs);
  expect(got.notice).toBeNull();
  await foreign.waitLog(/viewer-join stream=theirs /);
}, 60_000);
