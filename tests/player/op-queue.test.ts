/**
 * OpQueue: the ordered, bounded queue of SourceBuffer operations (what the sink does with them is
 * in mse-sink.test.ts). Assertions use the queue's `length`, `bytes`, `dropped` and `awaitingSync`.
 */

import { describe, expect, test } from "bun:test";
import { type InitOp, type MediaOp, type Op, OpQueue, type RemoveOp } from "../../static/player/op-queue.ts";

let seq = 0;
/** A media fragment of `size` bytes; `sync`: contains a video keyframe. */
function media(size: number, sync = false, start = seq++): MediaOp {
  return { kind: "media", bytes: new Uint8Array(size), info: { keyframe: sync, syncPoint: sync, start } };
}
function init(size = 10, mode: InitOp["mode"] = "first"): InitOp {
  return { kind: "init", bytes: new Uint8Array(size), mime: 'video/mp4; codecs="avc1.64001f"', mode };
}
function remove(start = 0, end = 1): RemoveOp {
  return { kind: "remove", start, end };
}
function drain(q: OpQueue): Op[] {
  const out: Op[] = [];
  for (let op = q.shift(); op; op = q.shift()) out.push(op);
  return out;
}

describe("OpQueue ordering and accounting", () => {
  test("operations come out in the order they were pushed, whatever their kind", () => {
    const q = new OpQueue();
    const ops: Op[] = [init(), media(5, true), remove(0, 2), media(6), init(7, "continue"), media(8, true)];
    for (const op of ops) expect(q.push(op)).toBe("queued");
    expect(q.length).toBe(ops.length);
    expect(drain(q)).toEqual(ops);
    expect(q.length).toBe(0);
    expect(q.shift()).toBeUndefined();
  });

  test("peek shows the head without removing it", () => {
    const q = new OpQueue();
    expect(q.peek()).toBeUndefined();
    const a = media(3, true);
    q.push(a);
    q.push(media(4));
    expect(q.peek()).toBe(a);
    expect(q.peek()).toBe(a);
    expect(q.length).toBe(2);
  });

  test("bytes counts init and media payloads, not removals, through push, shift and unshift", () => {
    const q = new OpQueue();
    q.push(init(100));
    q.push(remove());
    q.push(media(50, true));
    expect(q.bytes).toBe(150);
    const head = q.shift()!;
    expect(q.bytes).toBe(50);
    q.unshift(head);
    expect(q.bytes).toBe(150);
    drain(q);
    expect(q.bytes).toBe(0);
  });

  test("unshift puts a retried operation back at the head, before everything queued", () => {
    const q = new OpQueue();
    const a = media(1, true);
    const b = media(2);
    q.push(a);
    q.push(b);
    const head = q.shift()!;
    q.push(media(3));
    q.unshift(head);
    expect(q.peek()).toBe(a);
    expect(drain(q).map((op) => (op as MediaOp).bytes.byteLength)).toEqual([1, 2, 3]);
  });

  test("mediaAfterHead finds the first media fragment behind the head, skipping the head and removals", () => {
    const q = new OpQueue();
    expect(q.mediaAfterHead()).toBeUndefined();
    const first = media(1, true);
    q.push(first); // the head itself never counts
    expect(q.mediaAfterHead()).toBeUndefined();
    q.shift();
    q.push(init(4, "continue"));
    q.push(remove());
    expect(q.mediaAfterHead()).toBeUndefined();
    const next = media(2, true);
    q.push(next);
    q.push(media(3));
    expect(q.mediaAfterHead()).toBe(next);
  });

  test("hasRemove tells whether a removal is queued", () => {
    const q = new OpQueue();
    q.push(media(1, true));
    expect(q.hasRemove()).toBe(false);
    q.push(remove());
    expect(q.hasRemove()).toBe(true);
    drain(q);
    expect(q.hasRemove()).toBe(false);
  });
});

describe("OpQueue bounds", () => {
  test("the fragment that would exceed maxCount overflows: queued media is dropped and the queue waits for a sync point", () => {
    const q = new OpQueue(1_000_000, 3);
    expect(q.push(media(10, true))).toBe("queued");
    expect(q.push(media(10))).toBe("queued");
    expect(q.push(media(10))).toBe("queued");
    expect(q.push(media(10))).toBe("overflow"); // a 4th entry: not a sync point, dropped as well
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.dropped).toBe(4);
    expect(q.awaitingSync).toBe(true);
  });

  test("the fragment that would exceed maxBytes overflows; a sync point that overflows is kept and ends the resync", () => {
    const q = new OpQueue(100, 1000);
    q.push(media(40, true));
    q.push(media(40));
    const key = media(30, true);
    expect(q.push(key)).toBe("overflow"); // 80 + 30 > 100
    expect(q.length).toBe(1);
    expect(q.peek()).toBe(key);
    expect(q.bytes).toBe(30);
    expect(q.dropped).toBe(2);
    expect(q.awaitingSync).toBe(false);
    expect(q.push(media(30))).toBe("queued");
  });

  test("exactly maxBytes and exactly maxCount still fit", () => {
    const bytes = new OpQueue(100, 1000);
    expect(bytes.push(media(60, true))).toBe("queued");
    expect(bytes.push(media(40))).toBe("queued");
    expect(bytes.bytes).toBe(100);
    const count = new OpQueue(1_000_000, 2);
    expect(count.push(media(1, true))).toBe("queued");
    expect(count.push(media(1))).toBe("queued");
    expect(count.length).toBe(2);
  });

  test("an overflow keeps queued init and remove operations, in their order", () => {
    const q = new OpQueue(1_000_000, 4);
    const i = init(10, "continue");
    const r = remove(0, 5);
    q.push(media(1, true));
    q.push(i);
    q.push(media(1));
    q.push(r);
    const key = media(1, true);
    expect(q.push(key)).toBe("overflow");
    expect(drain(q)).toEqual([i, r, key]);
  });

  test("after an overflow, fragments are refused until a sync point, which is queued again", () => {
    const q = new OpQueue(1_000_000, 2);
    q.push(media(1, true));
    q.push(media(1));
    q.push(media(1)); // overflow
    const droppedAfterOverflow = q.dropped;
    expect(q.push(media(1))).toBe("dropped");
    expect(q.push(media(1))).toBe("dropped");
    expect(q.dropped).toBe(droppedAfterOverflow + 2);
    expect(q.length).toBe(0);
    expect(q.push(media(1, true))).toBe("queued");
    expect(q.awaitingSync).toBe(false);
    expect(q.push(media(1))).toBe("queued");
    expect(q.length).toBe(2);
  });

  test("init and remove operations are accepted while media waits for a sync point", () => {
    const q = new OpQueue();
    q.awaitSync();
    expect(q.push(init(5, "continue"))).toBe("queued");
    expect(q.push(remove())).toBe("queued");
    expect(q.push(media(5))).toBe("dropped");
    expect(q.length).toBe(2);
    expect(q.awaitingSync).toBe(true);
  });

  test("a long run of pushes never holds more than maxCount entries or maxBytes of media", () => {
    const maxBytes = 5_000;
    const maxCount = 20;
    const q = new OpQueue(maxBytes, maxCount);
    let rnd = 12345;
    const next = (): number => (rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const outcomes = { queued: 0, dropped: 0, overflow: 0 };
    let offered = 0;
    let taken = 0;
    for (let i = 0; i < 5_000; i++) {
      const r = next();
      if (r < 0.6) {
        offered++;
        outcomes[q.push(media(1 + Math.floor(next() * 400), i % 10 === 0))]++;
      } else if (r < 0.9 && q.length > 0) {
        if (q.shift()!.kind === "media") taken++;
      }
      expect(q.length).toBeLessThanOrEqual(maxCount);
      expect(q.bytes).toBeLessThanOrEqual(maxBytes);
    }
    expect(outcomes.overflow).toBeGreaterThan(0);
    expect(outcomes.dropped).toBeGreaterThan(0);
    // Every fragment offered was taken out, dropped, or is still queued.
    expect(taken + q.dropped + q.length).toBe(offered);
  });
});

describe("OpQueue resync, awaitSync, keepLatestGop, clear", () => {
  test("resync drops queued media only and refuses media until a sync point", () => {
    const q = new OpQueue();
    const i = init();
    const r = remove();
    q.push(i);
    q.push(media(10, true));
    q.push(r);
    q.push(media(20));
    q.resync();
    expect(q.dropped).toBe(2);
    expect(q.bytes).toBe(10);
    expect(q.awaitingSync).toBe(true);
    expect(q.push(media(5))).toBe("dropped");
    expect(q.push(media(5, true))).toBe("queued");
    expect(drain(q).map((op) => op.kind)).toEqual(["init", "remove", "media"]);
  });

  test("awaitSync keeps what is queued and refuses only new non-sync media", () => {
    const q = new OpQueue();
    q.push(media(10, true));
    q.push(media(10));
    q.awaitSync();
    expect(q.length).toBe(2);
    expect(q.dropped).toBe(0);
    expect(q.push(media(10))).toBe("dropped");
    expect(q.push(media(10, true))).toBe("queued");
    expect(q.length).toBe(3);
  });

  test("keepLatestGop drops media queued before the last sync point and keeps init and remove operations in order", () => {
    const q = new OpQueue();
    const i = init(7, "continue");
    const r = remove();
    const lastKey = media(30, true);
    const tail = media(40);
    for (const op of [media(10, true), media(11), i, media(12, true), r, media(13), lastKey, tail]) q.push(op);
    q.keepLatestGop();
    expect(q.dropped).toBe(4);
    expect(q.bytes).toBe(7 + 30 + 40);
    expect(drain(q)).toEqual([i, r, lastKey, tail]);
  });

  test("keepLatestGop does nothing when the last sync point is the head or there is none", () => {
    const atHead = new OpQueue();
    atHead.push(media(1, true));
    atHead.push(media(2));
    atHead.keepLatestGop();
    expect(atHead.length).toBe(2);
    const none = new OpQueue();
    none.push(init());
    none.push(media(3));
    none.keepLatestGop();
    expect(none.length).toBe(2);
    expect(atHead.dropped + none.dropped).toBe(0);
  });

  test("clear empties the queue and forgets the resync state but keeps the dropped count", () => {
    const q = new OpQueue(1_000_000, 1);
    q.push(media(10, true));
    q.push(media(10)); // overflow
    expect(q.awaitingSync).toBe(true);
    q.push(init());
    q.clear();
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
    expect(q.awaitingSync).toBe(false);
    expect(q.dropped).toBe(2);
    expect(q.push(media(10))).toBe("queued");
  });

  test("the default bounds are 32 MiB and 1000 operations", () => {
    const q = new OpQueue();
    expect(q.maxBytes).toBe(32 * 1024 * 1024);
    expect(q.maxCount).toBe(1000);
  });
});
