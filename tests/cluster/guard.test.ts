import { expect, test } from "bun:test";
import { createGuard, firstTime } from "../../src/cluster/guard.ts";
import { createLogger } from "../../src/log.ts";

test("the guard returns what the body returns; a throw or rejection becomes undefined, is counted, and is logged once per place and stream", async () => {
  const logs: string[] = [];
  const guard = createGuard(
    createLogger("info", (l) => logs.push(l)),
    "node-1",
  );
  expect(guard.run("x", "cam", () => 5)).toBe(5);
  for (let i = 0; i < 100; i++)
    expect(
      guard.run("x", "cam", () => {
        throw new Error("boom");
      }),
    ).toBeUndefined();
  expect(
    await guard.settle("y", "cam", async () => {
      throw "not an error";
    }),
  ).toBeUndefined();
  expect(await guard.settle("y", "cam", async () => 7)).toBe(7);
  expect(
    guard.run("x", "other", () => {
      throw {
        toString() {
          throw new Error("unprintable");
        },
      };
    }),
  ).toBeUndefined();
  expect(guard.errors).toBe(102);
  expect(logs).toHaveLength(3);
  expect(logs[0]).toMatch(/ warn cluster-internal-error stream=cam node=node-1 in=x error="Error: boom" errors=1 /);
  expect(logs[1]).toMatch(/ cluster-internal-error stream=cam .*in=y error="not an error"/);
  expect(logs[2]).toMatch(/ cluster-internal-error stream=other .*error=unknown/);
});

test("firstTime is true once per key and remembers at most its cap of keys", () => {
  const first = firstTime(2);
  expect([first("a"), first("a"), first("b"), first("c"), first("b")]).toEqual([true, false, true, false, false]);
});
