/** A WebSocket viewer that records every message in arrival order. */
export type ViewerMessage = { kind: "text"; json: Record<string, unknown> } | { kind: "binary"; bytes: Uint8Array };

export interface TestViewer {
  messages: ViewerMessage[];
  ws: WebSocket;
  closed: Promise<{ code: number; reason: string }>;
  /** Waits until `pred(messages)` holds. */
  until(pred: (m: ViewerMessage[]) => boolean, ms?: number, what?: string): Promise<void>;
  close(): void;
}

export async function connectViewer(url: string): Promise<TestViewer> {
  const ws = new WebSocket(url);
  ws.binaryType = "arraybuffer";
  const messages: ViewerMessage[] = [];
  ws.onmessage = (ev) => {
    if (typeof ev.data === "string") messages.push({ kind: "text", json: JSON.parse(ev.data) });
    else messages.push({ kind: "binary", bytes: new Uint8Array(ev.data as ArrayBuffer) });
  };
  const closed = new Promise<{ code: number; reason: string }>((r) => (ws.onclose = (ev) => r({ code: ev.code, reason: ev.reason })));
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error(`WebSocket ${url} failed to open`));
  });
  return {
    messages,
    ws,
    closed,
    async until(pred, ms = 15_000, what = "condition") {
      const end = Date.now() + ms;
      while (!pred(messages)) {
        if (Date.now() > end) throw new Error(`viewer ${url}: ${what} not met within ${ms} ms (${describe(messages)})`);
        await Bun.sleep(20);
      }
    },
    close: () => ws.close(),
  };
}

export function texts(m: ViewerMessage[], type?: string): Array<Record<string, unknown>> {
  return m.flatMap((x) => (x.kind === "text" && (!type || x.json.type === type) ? [x.json] : []));
}

function describe(m: ViewerMessage[]): string {
  return (
    m
      .map((x) => (x.kind === "text" ? String(x.json.type) : `bin${x.bytes.byteLength}`))
      .slice(0, 40)
      .join(" ") + (m.length > 40 ? ` ... (${m.length})` : "")
  );
}

/**
 * Splits a viewer's messages into sessions: each `stream` message followed by its init and the
 * fragments until the next `stream`/`ended`.
 */
export function sessions(
  m: ViewerMessage[],
): Array<{ stream: Record<string, unknown>; init: Uint8Array; fragments: Uint8Array[]; ended: boolean }> {
  const out: Array<{ stream: Record<string, unknown>; init: Uint8Array; fragments: Uint8Array[]; ended: boolean }> = [];
  let cur: (typeof out)[number] | undefined;
  let wantInit = false;
  for (const x of m) {
    if (x.kind === "text") {
      if (x.json.type === "stream") {
        cur = { stream: x.json, init: new Uint8Array(0), fragments: [], ended: false };
        out.push(cur);
        wantInit = true;
      } else if (x.json.type === "ended" && cur) {
        cur.ended = true;
        cur = undefined;
      }
    } else if (cur) {
      if (wantInit) {
        cur.init = x.bytes;
        wantInit = false;
      } else cur.fragments.push(x.bytes);
    }
  }
  return out;
}
