import { describe, expect, test } from "bun:test";
import { createLogger, formatLogValue } from "../src/log.ts";
import { RAW_CONTROL } from "./helpers/log-lines.ts";

describe("log values", () => {
  test("plain values stay as they are", () => {
    expect(formatLogValue("cam2")).toBe("cam2");
    expect(formatLogValue(42)).toBe("42");
    expect(formatLogValue(true)).toBe("true");
  });

  test("spaces, quotes, = and backslashes are quoted and escaped", () => {
    expect(formatLogValue("a b")).toBe('"a b"');
    expect(formatLogValue('say "hi"')).toBe('"say \\"hi\\""');
    expect(formatLogValue("k=v")).toBe('"k=v"');
    expect(formatLogValue("C:\\x")).toBe('"C:\\\\x"');
    expect(formatLogValue("")).toBe('""');
  });

  test("control, format and separator characters are escaped, never written raw", () => {
    const hostile = "x\u001b[31mred\u001b[0m\nfake line\r\u0085\u2028\u2029\u200b\u00a0\u0000\u007f\ud800";
    const out = formatLogValue(hostile);
    expect(out).not.toMatch(RAW_CONTROL);
    expect(out).toBe('"x\\u001b[31mred\\u001b[0m\\u000afake line\\u000d\\u0085\\u2028\\u2029\\u200b\\u00a0\\u0000\\u007f\\ud800"');
  });

  test("a logged line holds its fields on one line", () => {
    const lines: string[] = [];
    createLogger("info", (l) => lines.push(l)).warn("viewer-refused", {
      stream: "a\nb",
      remote: "1.2.3.4:5",
      reason: "\u001b]0;title\u0007",
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(RAW_CONTROL);
    expect(lines[0]).toContain('stream="a\\u000ab"');
  });
});
