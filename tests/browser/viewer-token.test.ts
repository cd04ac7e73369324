/**
 * The index page passes a signed viewer token (`?token=`) on to the player's WebSocket: with
 * `--viewer-secret` the page reaches "waiting for stream" with a valid token and never without one.
 */
import { expect, test } from "bun:test";
import { mintViewerToken } from "../../src/access/secrets.ts";
import { browserSuite } from "./suite.ts";

const SECRET = "browser-test-viewer-secret";
const suite = browserSuite(["--viewer-secret", SECRET]);

const playerState = (url: string) => async () => {
  const page = await suite.browser.context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => customElements.get("sluice-player") !== undefined);
  await Bun.sleep(1500);
  const state = await page.evaluate(() => (document.querySelector("sluice-player") as unknown as { state: string }).state);
  await page.close();
  return state;
};

test("/watch/:name?token= connects with the token; without it the server refuses the viewer", async () => {
  const token = await mintViewerToken(SECRET, "cam2", Date.now() / 1000 + 60);
  expect(await playerState(`http://127.0.0.1:${suite.sluice.httpPort}/watch/cam2?token=${token}`)()).toBe("waiting");
  expect(await playerState(`http://127.0.0.1:${suite.sluice.httpPort}/watch/cam2`)()).not.toBe("waiting");
  expect(suite.sluice.logs.some((l) => /viewer-refused stream=cam2 .*reason=missing-token/.test(l))).toBe(true);
}, 60_000);
