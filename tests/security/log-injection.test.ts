import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { RAW_CONTROL } from "../helpers/log-lines.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";

setDefaultTimeout(30_000);

/**
 * Issue 10, defect 9: values from the network (rejected stream names, paths, forwarded addresses,
 * Origin headers, WebSocket close reasons) reached the log with raw control characters: ESC sequences
 * that drive a terminal, newlines that forge lines, U+0085.
 */
let sluice: TestSluice;
beforeAll(async () => {
  sluice = await startTestSluice([
    "--trusted-proxies",
    "127.0.0.1/32",
    "--allowed-origins",
    "https://good.example",
    "--publish-key",
    "publish-key-1",
  ]);
});
afterAll(async () => {
  await sluice.stop();
});

/** Sends raw request bytes (headers a fetch client would refuse to send) and waits for the answer. */
async function rawRequest(bytes: Uint8Array): Promise<string> {
  let got = "";
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  const sock = await Bun.connect({
    hostname: "127.0.0.1",
    port: sluice.httpPort,
    socket: { data: (_s, d) => void (got += new TextDecoder().decode(d)), close: () => done(), error: () => done() },
  });
  sock.write(bytes);
  const end = Date.now() + 3000;
  while (!got.includes("\r\n\r\n") && Date.now() < end) await Bun.sleep(20);
  sock.end();
  await Promise.race([closed, Bun.sleep(500)]);
  return got;
}

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const EVIL = "\u001b[2J\u001b]0;owned\u0007\r\nfake 2026-01-01 info publisher-connected stream=x";

test("no log line carries a raw control character, whatever the client sends", async () => {
  const base = `http://127.0.0.1:${sluice.httpPort}`;
  const evilPath = `${encodeURIComponent(EVIL)}%C2%85%E2%80%A8`;
  // Rejected stream names (publisher and viewer), percent-decoded from the path.
  await fetch(`${base}/ingest/${evilPath}`, { method: "PUT", body: "x" });
  await fetch(`${base}/ws/${evilPath}`);
  // Forwarded addresses and Origin headers with control bytes, as raw bytes on the wire.
  const key = btoa("0123456789abcdef");
  for (const header of [
    `X-Forwarded-For: \u001b[31m198.18.0.1\u0085\u0007`,
    `Origin: https://\u001b[5mevil.example\u009b`,
    `X-Forwarded-For: 198.18.0.1\u0085\u009b2J`,
    `Origin: https://evil.example\u0085\u009b2J`,
  ]) {
    // Bun's HTTP parser answers 400 to C0 bytes in a header; C1 bytes (obs-text) reach Sluice.
    await rawRequest(
      latin1(
        `GET /ws/cam HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${header}\r\n\r\n`,
      ),
    );
    await rawRequest(latin1(`PUT /ingest/cam HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n${header}\r\n\r\nx`));
  }
  // A viewer's close reason.
  const ws = new WebSocket(`ws://127.0.0.1:${sluice.httpPort}/ws/cam`, {
    headers: { origin: "https://good.example" },
  } as unknown as string[]);
  await new Promise((r) => (ws.onopen = r));
  ws.close(4000, EVIL.slice(0, 60));
  await sluice.waitLog(/viewer-leave stream=cam .*code=4000/);
  await Bun.sleep(100);

  const refusals = sluice.logs.filter((l) => /(viewer|publisher)-refused/.test(l));
  expect(refusals.length).toBeGreaterThanOrEqual(5);
  const bad = sluice.logs.filter((l) => RAW_CONTROL.test(l));
  expect(bad).toEqual([]);
  // Each event is still one line, and the escaped value is readable.
  expect(sluice.logs.filter((l) => l.startsWith("fake"))).toEqual([]);
  expect(sluice.logs.some((l) => l.includes("\\u001b[2J"))).toBe(true);
  expect(sluice.logs.some((l) => l.includes('remote="198.18.0.1\\u0085\\u009b2J:'))).toBe(true);
});
