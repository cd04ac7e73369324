import { describe, expect, test } from "bun:test";
import { type ViewerSlot, ViewerSlots } from "../../src/server/viewer-slots.ts";

describe("viewer slots", () => {
  test("each limit refuses with its own reason, and release frees the place once", () => {
    const slots = new ViewerSlots({ maxViewers: 4, maxViewersPerStream: 3, maxViewersPerAddress: 2 });
    const a1 = slots.reserve("a", "1.1.1.1") as ViewerSlot;
    slots.reserve("a", "1.1.1.1");
    expect(slots.reserve("b", "1.1.1.1")).toMatchObject({ refused: "too-many-viewers-from-address" });
    slots.reserve("a", "2.2.2.2");
    expect(slots.reserve("a", "3.3.3.3")).toMatchObject({ refused: "too-many-viewers-per-stream" });
    slots.reserve("b", "3.3.3.3");
    expect(slots.reserve("c", "4.4.4.4")).toMatchObject({ refused: "too-many-viewers" });
    expect(slots.count).toBe(4);
    a1.release();
    a1.release();
    expect(slots.count).toBe(3);
    expect("release" in slots.reserve("c", "1.1.1.1")).toBe(true);
  });

  test("names such as __proto__ are ordinary keys", () => {
    const slots = new ViewerSlots({ maxViewers: 10, maxViewersPerStream: 1, maxViewersPerAddress: 10 });
    expect("release" in slots.reserve("__proto__", "constructor")).toBe(true);
    expect(slots.reserve("__proto__", "x")).toMatchObject({ refused: "too-many-viewers-per-stream" });
    expect("release" in slots.reserve("constructor", "x")).toBe(true);
  });
});
