import { prng } from "../helpers/feed.ts";

/**
 * Mutations of real cluster bus messages for the bus fuzzer (tests/security/cluster-bus.test.ts).
 * Written against the byte layout documented in src/cluster/wire.ts, independently of its decoder:
 * 24-byte header (version, type, flags, node id length, seq u32, init seq u32, decode time f64,
 * timescale u32), node id, payload (stream: u32 JSON length + JSON + init; fragment: bytes; ended: JSON).
 */
export interface Mutation {
  kind: string;
  bytes: Uint8Array;
  /**
   * Certainly malformed under the bus rules (a field of the wrong type, a missing field, a bad header
   * field, no payload): a node must reject and count it. False when the mutation may still be valid.
   */
  malformed: boolean;
}

interface Parts {
  version: number;
  type: number;
  flags: number;
  node: Uint8Array;
  seq: number;
  initSeq: number;
  decodeTime: number;
  timescale: number;
  payload: Uint8Array;
}

const HEADER = 24;
const enc = new TextEncoder();
const dec = new TextDecoder();

function parse(b: Uint8Array): Parts {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = b[3]!;
  return {
    version: b[0]!,
    type: b[1]!,
    flags: b[2]!,
    node: b.slice(HEADER, HEADER + n),
    seq: v.getUint32(4),
    initSeq: v.getUint32(8),
    decodeTime: v.getFloat64(12),
    timescale: v.getUint32(20),
    payload: b.slice(HEADER + n),
  };
}

function build(p: Parts, nodeLen = p.node.byteLength): Uint8Array {
  const out = new Uint8Array(HEADER + p.node.byteLength + p.payload.byteLength);
  const v = new DataView(out.buffer);
  out[0] = p.version;
  out[1] = p.type;
  out[2] = p.flags;
  out[3] = nodeLen;
  v.setUint32(4, p.seq >>> 0);
  v.setUint32(8, p.initSeq >>> 0);
  v.setFloat64(12, p.decodeTime);
  v.setUint32(20, p.timescale >>> 0);
  out.set(p.node, HEADER);
  out.set(p.payload, HEADER + p.node.byteLength);
  return out;
}

/** The JSON and init of a `stream` message's payload. */
function streamPayload(payload: Uint8Array): { json: Record<string, unknown>; init: Uint8Array } {
  const len = new DataView(payload.buffer, payload.byteOffset).getUint32(0);
  return { json: JSON.parse(dec.decode(payload.subarray(4, 4 + len))), init: payload.slice(4 + len) };
}

function streamPayloadOf(jsonText: string, init: Uint8Array): Uint8Array {
  const json = enc.encode(jsonText);
  const out = new Uint8Array(4 + json.byteLength + init.byteLength);
  new DataView(out.buffer).setUint32(0, json.byteLength);
  out.set(json, 4);
  out.set(init, 4 + json.byteLength);
  return out;
}

/** Values of the wrong type for a string field, a number field, an enum field. */
const NOT_STRING = [null, 42, {}, [], true, ["avc1"]];
const NOT_NUMBER = [null, "12", {}, [], true, "NaN"];
const NOT_POSITIVE = [0, -1, -1e9];
const TRACK_FIELDS: Record<string, unknown[]> = {
  id: [...NOT_NUMBER, -1, 1.5],
  kind: [...NOT_STRING, "subtitle", ""],
  codec: NOT_STRING,
  codecId: NOT_STRING,
  timescale: [...NOT_NUMBER],
  width: [...NOT_NUMBER, -640],
  height: [...NOT_NUMBER, -360],
  sampleRate: [...NOT_NUMBER, -48000],
  channels: [...NOT_NUMBER, -2],
};
const ROOT_FIELDS: Record<string, unknown[]> = {
  format: [...NOT_STRING, "flv", "FMP4"],
  mime: NOT_STRING,
  tracks: [null, {}, "tracks", 5, true, [null], [1], ["video"], [[]], [null, null]],
};
const BAD_JSON = ["null", "[]", '"stream"', "42", "true", "{", "", "\u0000", '{"format":', "{}"];
const BAD_ENDED = [
  '{"error":null}',
  '{"error":5}',
  '{"error":"x"}',
  '{"error":[]}',
  '{"error":{"reason":1,"message":"x"}}',
  '{"error":{"reason":"x"}}',
  '{"error":{"reason":"x","message":null}}',
  '{"error":{"message":"x"}}',
  "null",
  "[]",
  "",
  "{",
  "7",
  '"ended"',
];
const BAD_NODE_BYTES = [0x00, 0x0a, 0x1b, 0x7f, 0x80, 0xff];

/**
 * `count` mutations of `samples` (real bus messages of one stream: one `stream` message and
 * fragments of one publisher), reproducible from `seed`. `initSeq` is the publisher's current init
 * sequence: forged `ended` messages carry it, so one wrongly accepted would end the stream.
 */
export function mutations(samples: Uint8Array[], count: number, seed: number): Mutation[] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(a: readonly T[]): T => a[int(a.length)]!;
  const streamMsg = samples.find((s) => s[1] === 1);
  const fragments = samples.filter((s) => s[1] === 2);
  if (!streamMsg || fragments.length === 0) throw new Error("need a stream message and fragments to mutate");
  const stream = parse(streamMsg);
  const { json, init } = streamPayload(stream.payload);
  const node = stream.node;
  const fresh = () => (rnd() * 2 ** 32) >>> 0;
  /** A `stream` message of a new session (fresh sequence), so a node would act on it if it accepted it. */
  const withJson = (text: string): Uint8Array => {
    const seq = fresh();
    return build({ ...stream, seq, initSeq: seq, payload: streamPayloadOf(text, init) });
  };
  const huge = () => "x".repeat(256 * 1024);

  const makers: Array<[weight: number, make: () => Mutation]> = [
    [
      20,
      () => {
        const src = pick(samples).slice();
        const flips = 1 + int(8);
        const span = rnd() < 0.5 ? Math.min(src.byteLength, HEADER + src[3]! + 8) : src.byteLength;
        for (let i = 0; i < flips; i++) {
          const at = int(span);
          src[at] = src[at]! ^ (1 << int(8));
        }
        return { kind: "bit-flip", bytes: src, malformed: false };
      },
    ],
    [
      10,
      () => {
        const src = pick(samples);
        const at = int(src.byteLength);
        const nodeEnd = HEADER + src[3]!;
        const needed = src[1] === 1 ? nodeEnd + 4 + new DataView(src.buffer, src.byteOffset).getUint32(nodeEnd) : nodeEnd + 1;
        return { kind: "truncate", bytes: src.slice(0, at), malformed: at < needed };
      },
    ],
    [
      25,
      () => {
        const copy = structuredClone(json) as Record<string, unknown> & { tracks: Array<Record<string, unknown>> };
        if (rnd() < 0.35) {
          const field = pick(Object.keys(ROOT_FIELDS));
          if (rnd() < 0.15) delete copy[field];
          else copy[field] = pick(ROOT_FIELDS[field]!);
          return { kind: `json-${field}`, bytes: withJson(JSON.stringify(copy)), malformed: true };
        }
        const track = copy.tracks[int(copy.tracks.length)]!;
        const field = pick(Object.keys(TRACK_FIELDS));
        const required = ["id", "kind", "codec", "codecId", "timescale"].includes(field);
        if (required && rnd() < 0.15) delete track[field];
        else
          track[field] = field === "timescale" && track.kind !== "other" && rnd() < 0.3 ? pick(NOT_POSITIVE) : pick(TRACK_FIELDS[field]!);
        return { kind: `json-track-${field}`, bytes: withJson(JSON.stringify(copy)), malformed: true };
      },
    ],
    [
      5,
      () => {
        const copy = structuredClone(json) as Record<string, unknown>;
        copy.tracks = rnd() < 0.5 ? [null] : [null, ...(json.tracks as unknown[])];
        return { kind: "tracks-null", bytes: withJson(JSON.stringify(copy)), malformed: true };
      },
    ],
    [5, () => ({ kind: "json-root", bytes: withJson(pick(BAD_JSON)), malformed: true })],
    [
      4,
      () => {
        const copy = structuredClone(json) as Record<string, unknown> & { tracks: Array<Record<string, unknown>> };
        if (rnd() < 0.5) copy.mime = huge();
        else copy.tracks[0]!.codec = huge();
        return { kind: "huge-string", bytes: withJson(JSON.stringify(copy)), malformed: false };
      },
    ],
    [
      11,
      () => {
        const useStream = rnd() < 0.3;
        const p = parse(useStream ? streamMsg : pick(fragments));
        const what = int(useStream ? 6 : 9);
        let nodeLen = p.node.byteLength;
        if (what === 0) p.version = pick([0, 2, 255]);
        else if (what === 1) p.type = pick([0, 4, 9, 255]);
        else if (what === 2) nodeLen = 0;
        else if (what === 3) p.node[int(p.node.byteLength)] = pick(BAD_NODE_BYTES);
        else if (what === 4) p.flags = useStream ? 1 : pick([2, 0x80, 0xff]);
        else if (what === 5) {
          if (useStream) {
            new DataView(p.payload.buffer, p.payload.byteOffset).setUint32(0, 0xffffffff);
          } else p.timescale = 0;
        } else if (what === 6) p.decodeTime = pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, -1e12]);
        else if (what === 7) p.payload = new Uint8Array(0);
        else p.decodeTime = Number.NaN;
        const bytes = build(p, nodeLen);
        // A node length of 0 leaves the node id's bytes in front of the payload: still never valid.
        return { kind: `header-${what}`, bytes, malformed: true };
      },
    ],
    [
      8,
      () => {
        const p: Parts = {
          version: 1,
          type: 3,
          flags: 0,
          node,
          seq: fresh(),
          initSeq: stream.initSeq,
          decodeTime: 0,
          timescale: 0,
          payload: enc.encode(pick(BAD_ENDED)),
        };
        return { kind: "ended-bad", bytes: build(p), malformed: true };
      },
    ],
    [
      12,
      () => {
        const type = 1 + int(3);
        const payload = new Uint8Array(16 + int(4096)).map(() => int(256));
        const fragment = type === 2;
        const p: Parts = {
          version: 1,
          type,
          flags: fragment ? int(2) : 0,
          node,
          seq: fresh(),
          initSeq: stream.initSeq,
          decodeTime: fragment ? int(1e9) : 0,
          timescale: fragment ? 1 + int(90000) : 0,
          payload,
        };
        // Random fragment bytes are valid on the bus (media bytes are opaque there); random JSON is not.
        return { kind: `random-payload-${type}`, bytes: build(p), malformed: !fragment };
      },
    ],
  ];
  const total = makers.reduce((n, [w]) => n + w, 0);
  const out: Mutation[] = [];
  for (let i = 0; i < count; i++) {
    let r = rnd() * total;
    const maker = makers.find(([w]) => (r -= w) < 0) ?? makers[0]!;
    out.push(maker[1]());
  }
  return out;
}
