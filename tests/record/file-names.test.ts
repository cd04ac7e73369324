import { expect, test } from "bun:test";
import { parseRecordingFileName, randomTag, recordingFileName } from "../../src/record/file-names.ts";

test("a recording name is the UTC start to the millisecond plus a random tag, and parses back", () => {
  const start = Date.UTC(2026, 11, 2, 10, 30, 5, 42);
  const name = recordingFileName(start, "fmp4", "0a1b2c3d");
  expect(name).toBe("20261202T103005042Z-0a1b2c3d.mp4");
  expect(parseRecordingFileName(name)).toEqual({ startMs: start, format: "fmp4", index: "20261202T103005042Z-0a1b2c3d.idx" });
  expect(parseRecordingFileName(recordingFileName(start, "webm", "ffffffff"))?.format).toBe("webm");
  expect(randomTag()).toMatch(/^[0-9a-f]{8}$/);
  expect(randomTag()).not.toBe(randomTag());
});

test("anything but an exact recording name is refused (traversal, sidecars, other extensions, impossible dates)", () => {
  for (const bad of [
    "../20261202T103005042Z-0a1b2c3d.mp4",
    "20261202T103005042Z-0a1b2c3d.idx",
    "20261202T103005042Z-0a1b2c3d.mp4/..",
    "20261202T103005042Z-0A1B2C3D.mp4",
    "20261302T103005042Z-0a1b2c3d.mp4",
    "20260231T103005042Z-0a1b2c3d.mp4",
    "20261202T253005042Z-0a1b2c3d.mp4",
    "20261202T103005042Z-0a1b2c3d.mp4\u0000",
    "__proto__",
    "",
  ]) {
    expect([bad, parseRecordingFileName(bad)]).toEqual([bad, undefined]);
  }
  expect(() => recordingFileName(0, "fmp4", "../../x")).toThrow();
});
