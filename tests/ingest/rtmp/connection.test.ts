import { describe, expect, test } from "bun:test";
import { ParseError } from "../../../src/container/errors.ts";
import { amfGet } from "../../../src/container/flv/amf0.ts";
import type { DemuxEvent } from "../../../src/container/remux/frame.ts";
import { createRtmpConnection, type RtmpConnection, type RtmpPublishRequest } from "../../../src/ingest/rtmp/connection.ts";
import { HANDSHAKE_SIZE, MSG, USER_CONTROL } from "../../../src/ingest/rtmp/constants.ts";
import { windowAckSizeMessage } from "../../../src/ingest/rtmp/messages.ts";
import { prng } from "../../helpers/feed.ts";
import { ClientWire, ServerReplies } from "./ertmp-client.ts";

/** RtmpConnection driven in process by the test client's byte stream (no socket). */

interface Recorder {
  conn: RtmpConnection;
  out: ServerReplies;
  raw: Uint8Array[];
  requests: RtmpPublishRequest[];
  events: DemuxEvent[];
  errors: ParseError[];
  closes: string[];
  unpublished: number;
}

/** `acceptAtOnce`: accept from inside onPublish (the synchronous path). */
function open(maxMessageBytes = 1 << 20, acceptAtOnce = false): Recorder {
  const r = { out: new ServerReplies(), raw: [], requests: [], events: [], errors: [], closes: [], unpublished: 0 } as unknown as Recorder;
  r.conn = createRtmpConnection(
    { maxMessageBytes, now: () => 1_000 },
    {
      onSend: (b) => {
        r.raw.push(b);
        r.out.push(b);
      },
      onPublish: (req) => {
        r.requests.push(req);
        if (acceptAtOnce) r.conn.accept();
      },
      onMedia: (e) => r.events.push(...e),
      onUnpublish: () => r.unpublished++,
      onError: (e) => r.errors.push(e),
      onClose: (why) => r.closes.push(why),
    },
  );
  return r;
}

const avcC = Uint8Array.from([1, 0x42, 0xc0, 0x1e, 0xff, 0xe1, 0, 4, 0x67, 0x42, 0xc0, 0x1e, 1, 0, 2, 0x68, 0xce]);
const IDR = Uint8Array.from([0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00]);
/** One length-prefixed NAL unit of `n` + 2 bytes (frames of growing size, so messages span many chunks). */
const slice = (n: number) => [0, 0, (n + 2) >> 8, (n + 2) & 0xff, 0x41, 0x9a, ...new Array(n).fill(7)];

/** Everything a publisher sends, precomputed (the server does not check C2, so zeros do). */
function publisherBytes(wire = new ClientWire()): { before: Uint8Array; media: Uint8Array; after: Uint8Array } {
  const cat = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
  const before = cat([
    wire.hello(),
    new Uint8Array(HANDSHAKE_SIZE),
    wire.connect("live", "rtmp://127.0.0.1/live"),
    wire.command(0, "releaseStream", 2, null, "cam?key=abc"),
    wire.command(0, "FCPublish", 3, null, "cam?key=abc"),
    wire.command(0, "createStream", 4, null),
    wire.command(1, "publish", 5, null, "cam?key=abc", "live"),
  ]);
  const media = cat([
    wire.metadata(1, { width: 320, height: 240, videocodecid: 7 }),
    wire.media("video", 1, 0, Uint8Array.from([0x17, 0, 0, 0, 0, ...avcC])),
    ...Array.from({ length: 30 }, (_, i) =>
      wire.media("video", 1, i * 33, Uint8Array.from([i === 0 ? 0x17 : 0x27, 1, 0, 0, 0, ...slice(i * 40)])),
    ),
  ]);
  const after = cat([wire.command(1, "FCUnpublish", 6, null, "cam"), wire.command(0, "deleteStream", 7, null, 1)]);
  return { before, media, after };
}

function commands(r: Recorder): { name: string; code?: string; txn: number }[] {
  return r.out.commands().map((c) => ({
    name: c.name,
    txn: c.transactionId,
    ...(c.name === "onStatus" ? { code: String(amfGet(c.args[1] ?? null, "code")) } : {}),
  }));
}

describe("RtmpConnection", () => {
  test("handshake: S0 = 3, S1 with a zero version field, S2 echoes C1", () => {
    const r = open();
    const hello = new ClientWire().hello();
    r.conn.push(hello);
    expect(r.raw.length).toBe(1);
    const s = r.raw[0]!;
    expect(s.byteLength).toBe(1 + 2 * HANDSHAKE_SIZE);
    expect(s[0]).toBe(3);
    expect([...s.subarray(5, 9)]).toEqual([0, 0, 0, 0]);
    expect(s.subarray(1 + HANDSHAKE_SIZE)).toEqual(hello.subarray(1));
  });

  test("connect → window, bandwidth, chunk size, _result; createStream; publish → onPublish; accept → StreamBegin + Publish.Start", () => {
    const r = open();
    const { before, media } = publisherBytes();
    r.conn.push(before);
    // Set Chunk Size is consumed by the client's chunk reader: it shows as the reader's chunk size.
    const control = r.out.messages.filter((m) => m.csid === 2).map((m) => m.typeId);
    expect(control).toEqual([MSG.windowAckSize, MSG.setPeerBandwidth]);
    expect(r.out.reader.peerChunkSize).toBe(4096);
    expect(commands(r)).toEqual([
      { name: "_result", txn: 1 },
      { name: "_result", txn: 2 },
      { name: "_result", txn: 3 },
      { name: "_result", txn: 4 },
    ]);
    const connectResult = r.out.commands()[0]!;
    expect(amfGet(connectResult.args[1]!, "code")).toBe("NetConnection.Connect.Success");
    expect(r.out.commands()[3]!.args[1]).toBe(1);
    expect(r.requests).toEqual([{ app: "live", streamName: "cam", key: "abc", tcUrl: "rtmp://127.0.0.1/live" }]);
    expect(r.conn.state).toBe("deciding");
    // Media before the decision is held, then demuxed on accept.
    r.conn.push(media);
    expect(r.events).toEqual([]);
    r.conn.accept();
    const streamBegin = r.out.messages.find((m) => m.typeId === MSG.userControl)!;
    expect([...streamBegin.payload]).toEqual([0, USER_CONTROL.streamBegin, 0, 0, 0, 1]);
    expect(commands(r).at(-1)).toEqual({ name: "onStatus", txn: 0, code: "NetStream.Publish.Start" });
    expect(r.events[0]!.type).toBe("tracks");
    expect(r.events.filter((e) => e.type === "frame").length).toBe(30);
    r.conn.accept(); // a second accept does nothing
    expect(commands(r).filter((c) => c.name === "onStatus").length).toBe(1);
  });

  test("whole, byte by byte and random splits give the same events and answers", () => {
    const { before, media, after } = publisherBytes();
    const all = Uint8Array.from([...before, ...media, ...after]);
    const runWith = (sizes: () => number) => {
      const r = open(1 << 20, true);
      for (let pos = 0; pos < all.byteLength; ) {
        const n = Math.min(sizes(), all.byteLength - pos);
        r.conn.push(all.slice(pos, pos + n));
        pos += n;
      }
      return { events: r.events, commands: commands(r), unpublished: r.unpublished };
    };
    const whole = runWith(() => all.byteLength);
    expect(whole.events.filter((e) => e.type === "frame").length).toBe(30);
    expect(whole.events.at(-1)).toEqual({ type: "end-of-stream" });
    expect(whole.unpublished).toBe(1);
    expect(runWith(() => 1)).toEqual(whole);
    for (const seed of [1, 2, 3]) {
      const rnd = prng(seed);
      expect(runWith(() => 1 + Math.floor(rnd() * 500))).toEqual(whole);
    }
  });

  test("refuse → error-level onStatus with the description, then onClose; later bytes are ignored", () => {
    const r = open();
    const { before, media } = publisherBytes();
    r.conn.push(before);
    r.conn.refuse("NetStream.Publish.Unauthorized", "wrong publish key");
    const status = r.out.commands().at(-1)!;
    expect(status.name).toBe("onStatus");
    expect([amfGet(status.args[1]!, "level"), amfGet(status.args[1]!, "code"), amfGet(status.args[1]!, "description")]).toEqual([
      "error",
      "NetStream.Publish.Unauthorized",
      "wrong publish key",
    ]);
    expect(r.closes).toEqual(["publish refused: NetStream.Publish.Unauthorized: wrong publish key"]);
    expect(r.conn.state).toBe("closed");
    const sent = r.raw.length;
    r.conn.push(media);
    r.conn.accept();
    expect(r.raw.length).toBe(sent);
    expect(r.events).toEqual([]);
  });

  test("PingRequest is answered; acknowledgements follow the client's window", () => {
    const r = open();
    const wire = new ClientWire();
    const { before } = publisherBytes(wire);
    r.conn.push(before);
    r.conn.accept();
    r.conn.push(wire.writer.write(windowAckSizeMessage(1000)));
    r.conn.push(
      wire.writer.write({
        csid: 2,
        typeId: MSG.userControl,
        streamId: 0,
        timestamp: 0,
        payload: Uint8Array.from([0, USER_CONTROL.pingRequest, 0, 0, 0x12, 0x34]),
      }),
    );
    const pong = r.out.messages.filter((m) => m.typeId === MSG.userControl).at(-1)!;
    expect([...pong.payload]).toEqual([0, USER_CONTROL.pingResponse, 0, 0, 0x12, 0x34]);
    for (let i = 0; i < 5; i++) r.conn.push(wire.media("audio", 1, i * 20, Uint8Array.from([0xaf, 1, ...new Array(600).fill(0x21)])));
    const acks = r.out.messages
      .filter((m) => m.typeId === MSG.acknowledgement)
      .map((m) => new DataView(m.payload.buffer, m.payload.byteOffset).getUint32(0));
    expect(acks.length).toBeGreaterThanOrEqual(2);
    for (const a of acks) expect(a).toBeLessThanOrEqual(r.conn.stats.bytesIn);
    expect(r.conn.stats.acksSent).toBe(acks.length);
  });

  test("FCUnpublish then deleteStream end the publish once; media after it is dropped", () => {
    const r = open();
    const wire = new ClientWire();
    const { before, media, after } = publisherBytes(wire);
    r.conn.push(before);
    r.conn.accept();
    r.conn.push(media);
    r.conn.push(after);
    expect(r.unpublished).toBe(1);
    expect(r.events.filter((e) => e.type === "end-of-stream").length).toBe(1);
    r.conn.push(wire.media("video", 1, 2000, Uint8Array.from([0x27, 1, 0, 0, 0, ...IDR])));
    expect(r.conn.stats.droppedMedia).toBe(1);
  });

  test("a publisher leaving before the decision: onUnpublish, no media, a later accept does nothing", () => {
    const r = open();
    const { before, media, after } = publisherBytes();
    r.conn.push(Uint8Array.from([...before, ...media, ...after]));
    expect(r.unpublished).toBe(1);
    r.conn.accept();
    expect(r.events).toEqual([]);
    expect(commands(r).filter((c) => c.name === "onStatus")).toEqual([]);
  });

  test("end() while publishing flushes and ends the stream; nothing is emitted after it", () => {
    const r = open(1 << 20, true);
    const { before, media } = publisherBytes();
    r.conn.push(Uint8Array.from([...before, ...media]));
    r.conn.end();
    expect(r.events.at(-1)).toEqual({ type: "end-of-stream" });
    const n = r.events.length;
    r.conn.push(media);
    r.conn.end();
    expect(r.events.length).toBe(n);
    expect(r.conn.state).toBe("closed");
  });

  const failures: [string, () => Uint8Array[], string][] = [
    ["an HTTP request", () => [new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n")], "http-request"],
    ["RTMPE (version 6)", () => [Uint8Array.from([6, ...new Array(HANDSHAKE_SIZE).fill(0)])], "malformed"],
    [
      "a command before connect",
      () => {
        const w = new ClientWire();
        return [w.hello(), new Uint8Array(HANDSHAKE_SIZE), w.command(0, "createStream", 2, null)];
      },
      "malformed",
    ],
    [
      "publish on a stream that was not created",
      () => {
        const w = new ClientWire();
        return [
          w.hello(),
          new Uint8Array(HANDSHAKE_SIZE),
          w.connect("live", "rtmp://h/live"),
          w.command(7, "publish", 5, null, "cam", "live"),
        ];
      },
      "malformed",
    ],
    [
      "a message above maxMessageBytes",
      () => {
        const w = new ClientWire();
        return [w.hello(), new Uint8Array(HANDSHAKE_SIZE), w.media("video", 1, 0, new Uint8Array(5000))];
      },
      "too-large",
    ],
  ];
  for (const [what, bytes, reason] of failures) {
    test(`protocol violation: ${what} → one onError(${reason}), nothing after it`, () => {
      const r = open(4096);
      for (const b of bytes()) r.conn.push(b);
      expect(r.errors.map((e): string => e.reason)).toEqual([reason]);
      expect(r.conn.state).toBe("closed");
      r.conn.push(new ClientWire().hello());
      expect(r.errors.length).toBe(1);
    });
  }

  test("fuzz: mutated publisher streams only ever end in onError(ParseError), never a throw", () => {
    const { before, media, after } = publisherBytes();
    const all = Uint8Array.from([...before, ...media, ...after]);
    const rnd = prng(99);
    let errored = 0;
    for (let i = 0; i < 400; i++) {
      const bytes = all.slice();
      // Mutate only after the handshake so the chunk stream and AMF parsers see the damage.
      for (let k = 0; k < 1 + Math.floor(rnd() * 6); k++)
        bytes[1 + 2 * HANDSHAKE_SIZE + Math.floor(rnd() * (bytes.length - 1 - 2 * HANDSHAKE_SIZE))] = Math.floor(rnd() * 256);
      const r = open(64 * 1024);
      for (let pos = 0; pos < bytes.length; ) {
        const n = 1 + Math.floor(rnd() * 3000);
        r.conn.push(bytes.subarray(pos, pos + n));
        pos += n;
        if (r.requests.length > 0) r.conn.accept();
      }
      for (const e of r.errors) expect(e).toBeInstanceOf(ParseError);
      expect(r.errors.length).toBeLessThanOrEqual(1);
      if (r.errors.length) errored++;
    }
    expect(errored).toBeGreaterThan(20);
  });
});
