/**
 * A strict checker of the Prometheus text exposition format (version 0.0.4), written from the
 * format's description: returns the parsed samples or throws naming the first offending line.
 * Rules: every family has exactly one HELP and one TYPE line before its samples; a family's samples
 * are contiguous; metric and label names are valid; label values are quoted with only \\ \" \n
 * escapes; no duplicate series; values are Go-style floats; counters end in _total and are >= 0;
 * the text ends with a newline.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]Inf|NaN)$/;

export function parseExposition(text: string): Sample[] {
  if (!text.endsWith("\n")) throw new Error("exposition must end with a newline");
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const closed = new Set<string>();
  const series = new Set<string>();
  const samples: Sample[] = [];
  let current: string | undefined;
  const lines = text.slice(0, -1).split("\n");
  lines.forEach((line, i) => {
    const at = `line ${i + 1} "${line}"`;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
      if (!m) throw new Error(`${at}: comment is neither HELP nor TYPE`);
      const [, kind, name, rest] = m as unknown as [string, string, string, string];
      if (!NAME.test(name)) throw new Error(`${at}: bad metric name`);
      if (closed.has(name) || (current !== undefined && current !== name && (help.has(name) || type.has(name))))
        throw new Error(`${at}: family ${name} is not contiguous`);
      if (current !== name && current !== undefined) closed.add(current);
      current = name;
      const map = kind === "HELP" ? help : type;
      if (map.has(name)) throw new Error(`${at}: second ${kind} for ${name}`);
      if (kind === "TYPE") {
        if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(rest)) throw new Error(`${at}: unknown type`);
        if (samples.some((s) => s.name === name)) throw new Error(`${at}: TYPE after samples`);
      } else if (/\\[^\\n]/.test(rest.replace(/\\\\/g, ""))) throw new Error(`${at}: bad escape in HELP`);
      map.set(name, rest);
      return;
    }
    if (line.trim() === "") throw new Error(`${at}: empty line`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line);
    if (!m) throw new Error(`${at}: not a sample line`);
    const name = m[1]!;
    if (name !== current) throw new Error(`${at}: sample outside its family (current ${current})`);
    if (!help.has(name) || !type.has(name)) throw new Error(`${at}: sample before HELP and TYPE`);
    const labels = parseLabels(m[3] ?? "", at);
    if (!VALUE.test(m[4]!)) throw new Error(`${at}: bad value`);
    const value = m[4] === "+Inf" ? Infinity : m[4] === "-Inf" ? -Infinity : Number(m[4]);
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`;
    if (series.has(key)) throw new Error(`${at}: duplicate series`);
    series.add(key);
    if (type.get(name) === "counter") {
      if (!name.endsWith("_total")) throw new Error(`${at}: counter name must end in _total`);
      if (!(value >= 0)) throw new Error(`${at}: counter below zero`);
    }
    samples.push({ name, labels, value });
  });
  return samples;
}

function parseLabels(s: string, at: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < s.length) {
    const eq = s.indexOf("=", i);
    if (eq < 0) throw new Error(`${at}: label without =`);
    const name = s.slice(i, eq);
    if (!LABEL.test(name) || name.startsWith("__")) throw new Error(`${at}: bad label name "${name}"`);
    if (name in out) throw new Error(`${at}: repeated label ${name}`);
    if (s[eq + 1] !== '"') throw new Error(`${at}: label value not quoted`);
    let j = eq + 2;
    let v = "";
    for (; j < s.length && s[j] !== '"'; j++) {
      if (s[j] === "\\") {
        const e = s[++j];
        if (e === "\\") v += "\\";
        else if (e === '"') v += '"';
        else if (e === "n") v += "\n";
        else throw new Error(`${at}: bad escape \\${e}`);
      } else v += s[j];
    }
    if (s[j] !== '"') throw new Error(`${at}: unterminated label value`);
    out[name] = v;
    i = j + 1;
    if (i < s.length) {
      if (s[i] !== ",") throw new Error(`${at}: labels must be separated by commas`);
      i++;
    }
  }
  return out;
}

export function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
