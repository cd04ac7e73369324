/**
 * One line per event that matters: `<ISO time> <level> <event> key=value ...`, with the stream name
 * among the fields where there is one. Values are escaped so that nothing from the network can forge a
 * line or drive a terminal: a value with spaces, quotes, `=`, backslashes or any non-printable character
 * is quoted, and every non-printable character in it (C0/C1 controls such as ESC and U+0085, format
 * characters, separators other than the space, lone surrogates) is written as `\uXXXX` (issue 10).
 */
export type LogLevel = "info" | "warn" | "silent";
type Fields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(event: string, fields?: Fields): void;
  warn(event: string, fields?: Fields): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => console.log(l)): Logger {
  const emit = (lvl: string, event: string, fields: Fields = {}) => {
    const parts = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${formatLogValue(v!)}`);
    write([new Date().toISOString(), lvl, event, ...parts].join(" "));
  };
  return {
    info: (e, f) => level === "info" && emit("info", e, f),
    warn: (e, f) => level !== "silent" && emit("warn", e, f),
  };
}

/** Characters that are not printed as themselves: every Unicode "Other" (Cc, Cf, Cs, Co, Cn) and separator but the space. */
const UNPRINTABLE = /[\p{C}\p{Z}]/gu;
const NEEDS_QUOTES = /[\s"=\\\p{C}\p{Z}]/u;

/** A log field value on one line of printable characters (see the module comment). */
export function formatLogValue(v: string | number | boolean): string {
  const s = String(v);
  if (s !== "" && !NEEDS_QUOTES.test(s)) return s;
  const escaped = s.replace(/[\\"]/g, (c) => `\\${c}`).replace(UNPRINTABLE, (c) => (c === " " ? c : escapeChar(c)));
  return `"${escaped}"`;
}

function escapeChar(c: string): string {
  const code = c.codePointAt(0)!;
  return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, "0")}`;
}
