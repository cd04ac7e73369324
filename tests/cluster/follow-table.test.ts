import { describe, expect, test } from "bun:test";
import { createFollowTable, type TableEntry } from "../../src/cluster/follow-table.ts";

const setup = (max = 3) => {
  const viewers = new Map<string, number>();
  const table = createFollowTable<TableEntry>({ max, idleMs: 5000, unwatchedMs: 3000 }, (n) => viewers.get(n) ?? 0);
  const add = (name: string, now: number) => table.add(name, { lastWatched: 0, watched: false }, now);
  return { viewers, table, add };
};

describe("the follow table", () => {
  test("when full, the entry to unfollow is the one without viewers watched longest ago; none when every entry has viewers", () => {
    const { viewers, table, add } = setup();
    add("a", 1);
    add("b", 2);
    add("c", 3);
    expect(table.full).toBe(true);
    expect(table.victim()?.[0]).toBe("a");
    table.touch("a", table.get("a")!, 4); // a viewer asked for a again
    expect(table.victim()?.[0]).toBe("b");
    viewers.set("b", 1);
    expect(table.victim()?.[0]).toBe("c");
    viewers.set("c", 2);
    viewers.set("a", 1);
    expect(table.victim()).toBeUndefined();
  });

  test("an entry no viewer was seen on is idle 3 s after its last follow; a watched one 5 s after its viewers left", () => {
    const { viewers, table, add } = setup();
    add("never", 0);
    add("seen", 0);
    viewers.set("seen", 1);
    expect(table.idle("never", table.get("never")!, 3000)).toBe(false);
    expect(table.idle("seen", table.get("seen")!, 3000)).toBe(false); // has viewers: refreshed and marked watched
    expect(table.idle("never", table.get("never")!, 3001)).toBe(true);
    viewers.set("seen", 0);
    expect(table.idle("seen", table.get("seen")!, 3000 + 4000)).toBe(false);
    expect(table.idle("seen", table.get("seen")!, 3000 + 5001)).toBe(true);
    // The check that saw viewers also moved it to the most recently watched end.
    expect(table.entries().map(([n]) => n)).toEqual(["never", "seen"]);
  });

  test("remembered names are bounded by the table size, oldest forgotten first, and handed out once", () => {
    const { table } = setup(2);
    for (const n of ["x", "y", "z", "y"]) table.remember(n);
    expect(table.takeDisplaced()).toEqual(["z", "y"]);
    expect(table.takeDisplaced()).toEqual([]);
  });
});
