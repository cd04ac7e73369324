import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";

/** Issue 10, defect 11: `/static/%00` answered 500; every path that is not a file of the player folder is a 404. */
let sluice: TestSluice;
beforeAll(async () => {
  sluice = await startTestSluice();
});
afterAll(async () => {
  await sluice.stop();
});

test("bad static paths are 404, never 500, and never leave the player folder", async () => {
  const base = `http://127.0.0.1:${sluice.httpPort}`;
  const paths = [
    "%00",
    "a%00b",
    "index.html%00.png",
    "%0a",
    "%1b[31m",
    "..%2f..%2fpackage.json",
    "%2e%2e/%2e%2e/package.json",
    "..%5c..%5cpackage.json",
    "player%00/element.ts",
    "%ff%fe",
    "%e2%80%a8",
    "%",
    "%zz",
    "player",
    "player/",
    "does-not-exist",
  ];
  const statuses = await Promise.all(paths.map(async (p) => [p, (await fetch(`${base}/static/${p}`)).status] as const));
  expect(statuses.filter(([, s]) => s !== 404)).toEqual([]);
  expect(sluice.logs.filter((l) => l.includes("http-error"))).toEqual([]);
  // A real file of the folder is still served.
  expect((await fetch(`${base}/static/index.html`)).status).toBe(200);
});
