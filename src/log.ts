/**
 * One line per event that matters: `<ISO time> <level> <event> key=value ...`, with the stream name
 * among the fields where there is one. Values with spaces are quoted.
 */
export type LogLevel = "info" | "warn" | "silent";
export type Fields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  info(event: string, fields?: Fields): void;
  warn(event: string, fields?: Fields): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = (l) => console.log(l)): Logger {
  const emit = (lvl: string, event: string, fields: Fields = {}) => {
    const parts = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${formatValue(v!)}`);
    write([new Date().toISOString(), lvl, event, ...parts].join(" "));
  };
  return {
    info: (e, f) => level === "info" && emit("info", e, f),
    warn: (e, f) => level !== "silent" && emit("warn", e, f),
  };
}

function formatValue(v: string | number | boolean): string {
  const s = String(v);
  return /[\s"=]/.test(s) || s === "" ? JSON.stringify(s) : s;
}
