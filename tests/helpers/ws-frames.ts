import type { ViewerMessage } from "./ws-viewer.ts";

/**
 * Parses raw server→client WebSocket frames (RFC 6455 §5.2, unmasked, no extensions) into messages;
 * a close frame ends the list and is returned as `close`.
 */
export function parseWsFrames(bytes: Uint8Array): { messages: ViewerMessage[]; close?: { code: number; reason: string } } {
  const messages: ViewerMessage[] = [];
  let pos = 0;
  let partial: Uint8Array[] = [];
  let partialOp = 0;
  while (pos + 2 <= bytes.byteLength) {
    const b0 = bytes[pos]!;
    const b1 = bytes[pos + 1]!;
    let len = b1 & 0x7f;
    let off = pos + 2;
    if (len === 126) {
      if (off + 2 > bytes.byteLength) break;
      len = (bytes[off]! << 8) | bytes[off + 1]!;
      off += 2;
    } else if (len === 127) {
      if (off + 8 > bytes.byteLength) break;
      len = Number(new DataView(bytes.buffer, bytes.byteOffset + off, 8).getBigUint64(0));
      off += 8;
    }
    if (off + len > bytes.byteLength) break;
    const payload = bytes.subarray(off, off + len);
    pos = off + len;
    const op = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if (op === 8) {
      const code = payload.byteLength >= 2 ? (payload[0]! << 8) | payload[1]! : 1005;
      return { messages, close: { code, reason: new TextDecoder().decode(payload.subarray(2)) } };
    }
    if (op === 9 || op === 10) continue; // ping / pong
    if (op !== 0) partialOp = op;
    partial.push(payload);
    if (!fin) continue;
    const whole = new Uint8Array(partial.reduce((n, p) => n + p.byteLength, 0));
    let o = 0;
    for (const p of partial) {
      whole.set(p, o);
      o += p.byteLength;
    }
    partial = [];
    messages.push(partialOp === 1 ? { kind: "text", json: JSON.parse(new TextDecoder().decode(whole)) } : { kind: "binary", bytes: whole });
  }
  return { messages };
}
