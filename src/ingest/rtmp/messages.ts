import { ParseError } from "../../container/errors.ts";
import { type AmfValue, decodeAmf0 } from "../../container/flv/amf0.ts";
import { encodeAmf0 } from "../../container/flv/amf0-write.ts";
import type { RtmpMessage } from "./chunk-reader.ts";
import type { OutgoingMessage } from "./chunk-writer.ts";
import { CSID, MSG } from "./constants.ts";

/** Payloads of protocol control and user control messages (RTMP spec §5.4, §7.1.7). */

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
}

function control(typeId: number, payload: Uint8Array): OutgoingMessage {
  return { csid: CSID.protocolControl, typeId, streamId: 0, timestamp: 0, payload };
}

export function setChunkSizeMessage(size: number): OutgoingMessage {
  return control(MSG.setChunkSize, u32(size));
}

export function windowAckSizeMessage(size: number): OutgoingMessage {
  return control(MSG.windowAckSize, u32(size));
}

export function setPeerBandwidthMessage(size: number, limitType: number): OutgoingMessage {
  const b = new Uint8Array(5);
  new DataView(b.buffer).setUint32(0, size);
  b[4] = limitType;
  return control(MSG.setPeerBandwidth, b);
}

export function acknowledgementMessage(sequence: number): OutgoingMessage {
  return control(MSG.acknowledgement, u32(sequence % 2 ** 32));
}

export function userControlMessage(event: number, value: number): OutgoingMessage {
  const b = new Uint8Array(6);
  const v = new DataView(b.buffer);
  v.setUint16(0, event);
  v.setUint32(2, value >>> 0);
  return control(MSG.userControl, b);
}

/** An AMF0 command message (§7.1.1): name, transaction ID, then the arguments. */
export function commandMessage(streamId: number, name: string, transactionId: number, ...args: AmfValue[]): OutgoingMessage {
  return {
    csid: streamId === 0 ? CSID.command : CSID.stream,
    typeId: MSG.commandAmf0,
    streamId,
    timestamp: 0,
    payload: encodeAmf0([name, transactionId, ...args]),
  };
}

/** A decoded command (types 20/17) or data message (18/15): its name, transaction ID (commands) and arguments. */
export interface AmfMessage {
  name: string;
  transactionId: number;
  args: AmfValue[];
}

/**
 * Decodes a command message (AMF0 type 20; type 17 starts with a format selector byte that must be 0,
 * then AMF0 values, E-RTMP v2 "AMF3-encoded Historical Specification Clarification"). Throws
 * `ParseError("malformed")` when the name is not a string.
 */
export function decodeCommand(msg: RtmpMessage): AmfMessage {
  const values = decodeAmf0(msg.payload, amfStart(msg));
  const [name, txn] = values;
  if (typeof name !== "string") throw new ParseError("malformed", "RTMP command without a name");
  return { name, transactionId: typeof txn === "number" && Number.isFinite(txn) ? txn : 0, args: values.slice(2) };
}

/** Decodes a data message (AMF0 type 18, or 15 with its format selector byte): name, then the values. */
export function decodeData(msg: RtmpMessage): AmfMessage {
  const values = decodeAmf0(msg.payload, amfStart(msg));
  const [name] = values;
  if (typeof name !== "string") throw new ParseError("malformed", "RTMP data message without a name");
  return { name, transactionId: 0, args: values.slice(1) };
}

function amfStart(msg: RtmpMessage): number {
  if (msg.typeId !== MSG.commandAmf3 && msg.typeId !== MSG.dataAmf3) return 0;
  if (msg.payload.byteLength > 0 && msg.payload[0] !== 0)
    throw new ParseError("malformed", `AMF3 message format selector ${msg.payload[0]} (only 0, AMF0 values, is defined)`);
  return 1;
}
