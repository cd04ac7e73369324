import { describe, expect, test } from "bun:test";
import { newFollowState, onEnded, onFragment, onLost, onStream } from "../../src/cluster/follow-state.ts";

const frag = (seq: number, keyframe = false, node = "a", initSeq = 100) => ({ node, seq: seq >>> 0, initSeq, keyframe });

describe("following a stream from the bus", () => {
  test("consecutive fragments after a stream message are delivered as they come", () => {
    const st = newFollowState();
    expect(onStream(st, { node: "a", seq: 100, initSeq: 100 }, false)).toBe("start");
    expect(onFragment(st, frag(101, true))).toBe("deliver");
    expect(onFragment(st, frag(102))).toBe("deliver");
    expect(onFragment(st, frag(103))).toBe("deliver");
  });

  test("a gap drops fragments until the next keyframe, which comes after a skip", () => {
    const st = newFollowState();
    onStream(st, { node: "a", seq: 100, initSeq: 100 }, false);
    expect(onFragment(st, frag(101, true))).toBe("deliver");
    expect(onFragment(st, frag(105))).toBe("drop");
    expect(onFragment(st, frag(106))).toBe("drop");
    expect(onFragment(st, frag(107, true))).toBe("skip-then-deliver");
    expect(onFragment(st, frag(108))).toBe("deliver");
    // A keyframe right at the gap is delivered after a skip too.
    expect(onFragment(st, frag(120, true))).toBe("skip-then-deliver");
  });

  test("bus sequences wrap around u32", () => {
    const st = newFollowState();
    onStream(st, { node: "a", seq: 0xfffffffe, initSeq: 100 }, false);
    expect(onFragment(st, frag(0xffffffff, true))).toBe("deliver");
    expect(onFragment(st, frag(0))).toBe("deliver");
    expect(onFragment(st, frag(1))).toBe("deliver");
  });

  test("started from the init key, the stream starts at the next keyframe without a skip", () => {
    const st = newFollowState();
    expect(onStream(st, { node: "a", seq: 100, initSeq: 100 }, true)).toBe("start");
    expect(onFragment(st, frag(140))).toBe("drop");
    expect(onFragment(st, frag(141, true))).toBe("deliver");
    expect(onFragment(st, frag(142))).toBe("deliver");
    // The key read after the bus delivered the stream message changes nothing.
    expect(onStream(st, { node: "a", seq: 100, initSeq: 100 }, true)).toBe("ignore");
  });

  test("other nodes' messages are ignored; a stream message from another node switches the source", () => {
    const st = newFollowState();
    expect(onFragment(st, frag(1, true))).toBe("ignore"); // nothing followed yet
    onStream(st, { node: "a", seq: 100, initSeq: 100 }, false);
    expect(onFragment(st, frag(500, true, "b"))).toBe("ignore");
    expect(onEnded(st, { node: "b" })).toBe("ignore");
    expect(onStream(st, { node: "a", seq: 100, initSeq: 100 }, false)).toBe("ignore"); // duplicate
    expect(onStream(st, { node: "b", seq: 7, initSeq: 7 }, false)).toBe("start");
    expect(onFragment(st, frag(8, true, "b", 7))).toBe("deliver");
    expect(onFragment(st, frag(101, true, "a"))).toBe("ignore");
  });

  test("a fragment of an init that was missed asks for the init key", () => {
    const st = newFollowState();
    onStream(st, { node: "a", seq: 100, initSeq: 100 }, false);
    expect(onFragment(st, frag(101, true))).toBe("deliver");
    expect(onFragment(st, frag(103, true, "a", 102))).toBe("need-init");
    expect(onFragment(st, frag(104, false, "a", 102))).toBe("need-init");
  });

  test("after ended, the ended session's init key is stale; after a lost lease, the same session may revive", () => {
    const st = newFollowState();
    onStream(st, { node: "a", seq: 100, initSeq: 100 }, false);
    expect(onEnded(st, { node: "a" })).toBe("end");
    expect(onFragment(st, frag(102))).toBe("ignore");
    expect(onStream(st, { node: "a", seq: 100, initSeq: 100 }, true)).toBe("ignore");
    expect(onStream(st, { node: "a", seq: 9, initSeq: 9 }, true)).toBe("start"); // a new session of node a
    onLost(st);
    expect(onStream(st, { node: "a", seq: 9, initSeq: 9 }, true)).toBe("start");
  });
});
