import { ByteQueue } from "../../../src/container/byte-queue.ts";
import { type AmfValue, amfGet, amfObject } from "../../../src/container/flv/amf0.ts";
import { encodeAmf0 } from "../../../src/container/flv/amf0-write.ts";
import { ChunkReader, type RtmpMessage } from "../../../src/ingest/rtmp/chunk-reader.ts";
import { ChunkWriter } from "../../../src/ingest/rtmp/chunk-writer.ts";
import { HANDSHAKE_SIZE, MSG } from "../../../src/ingest/rtmp/constants.ts";
import { type AmfMessage, decodeCommand, setChunkSizeMessage } from "../../../src/ingest/rtmp/messages.ts";

/**
 * A minimal test-side RTMP publisher built on Sluice's own chunk writer and AMF0 encoder: the byte
 * stream a client sends (`ClientWire`), a parser for what the server answers (`ServerReplies`), E-RTMP
 * payload builders, and `publishOverTcp`, which runs a whole publish over a real socket.
 */

const CSID_COMMAND = 3;
const CSID_AUDIO = 4;
const CSID_VIDEO = 6;
const CSID_DATA = 5;

export class ClientWire {
  readonly writer: ChunkWriter;

  constructor(compress = true) {
    this.writer = new ChunkWriter(128, compress);
  }

  /** C0 + C1 (version 3, time 0, zero, 1528 pseudo-random bytes). */
  hello(): Uint8Array {
    const b = new Uint8Array(1 + HANDSHAKE_SIZE);
    b[0] = 3;
    for (let i = 9; i < b.byteLength; i++) b[i] = (i * 31 + 7) & 0xff;
    return b;
  }

  /** C2 = S1 echoed. */
  c2(s1: Uint8Array): Uint8Array {
    return s1.slice();
  }

  setChunkSize(size: number): Uint8Array {
    const out = this.writer.write(setChunkSizeMessage(size));
    this.writer.setChunkSize(size);
    return out;
  }

  command(streamId: number, name: string, txn: number, ...args: AmfValue[]): Uint8Array {
    return this.writer.write({
      csid: CSID_COMMAND,
      typeId: MSG.commandAmf0,
      streamId,
      timestamp: 0,
      payload: encodeAmf0([name, txn, ...args]),
    });
  }

  connect(app: string, tcUrl: string): Uint8Array {
    return this.command(
      0,
      "connect",
      1,
      amfObject({
        app,
        type: "nonprivate",
        flashVer: "FMLE/3.0 (compatible; sluice-test)",
        tcUrl,
        fourCcList: ["hvc1", "av01", "vp09", "avc1", "Opus", "mp4a"],
      }),
    );
  }

  metadata(streamId: number, meta: Record<string, AmfValue>): Uint8Array {
    return this.writer.write({
      csid: CSID_DATA,
      typeId: MSG.dataAmf0,
      streamId,
      timestamp: 0,
      payload: encodeAmf0(["@setDataFrame", "onMetaData", amfObject(meta, "ecma-array")]),
    });
  }

  media(kind: "audio" | "video", streamId: number, timestamp: number, payload: Uint8Array): Uint8Array {
    return this.writer.write({
      csid: kind === "audio" ? CSID_AUDIO : CSID_VIDEO,
      typeId: kind === "audio" ? MSG.audio : MSG.video,
      streamId,
      timestamp: timestamp % 2 ** 32,
      payload,
    });
  }
}

/** Parses the server's byte stream: S0+S1+S2, then chunked messages. */
export class ServerReplies {
  readonly queue = new ByteQueue();
  readonly reader = new ChunkReader({ maxMessageBytes: 1 << 20, maxChunkStreams: 64, maxPartialBytes: 2 << 20 });
  s1: Uint8Array | undefined;
  s2: Uint8Array | undefined;
  readonly messages: RtmpMessage[] = [];

  push(bytes: Uint8Array): RtmpMessage[] {
    this.queue.push(bytes);
    if (!this.s2) {
      if (this.queue.length < 1 + 2 * HANDSHAKE_SIZE) return [];
      this.queue.skip(1);
      this.s1 = this.queue.take(HANDSHAKE_SIZE);
      this.s2 = this.queue.take(HANDSHAKE_SIZE);
    }
    const out: RtmpMessage[] = [];
    for (let m = this.reader.read(this.queue); m; m = this.reader.read(this.queue)) out.push(m);
    this.messages.push(...out);
    return out;
  }

  commands(): AmfMessage[] {
    return this.messages.filter((m) => m.typeId === MSG.commandAmf0).map(decodeCommand);
  }

  /** The `code` of every onStatus received. */
  statusCodes(): string[] {
    return this.commands()
      .filter((c) => c.name === "onStatus")
      .map((c) => String(amfGet(c.args[1] ?? null, "code")));
  }
}

// E-RTMP v2 payload builders.

function fourccBytes(f: string): number[] {
  return [...f].map((c) => c.charCodeAt(0));
}

/** ExVideoTagHeader SequenceStart: IsExHeader | KeyFrame << 4 | 0, FourCC, record. */
export function exVideoSequenceStart(fourcc: string, record: Uint8Array): Uint8Array {
  return Uint8Array.from([0x80 | (1 << 4) | 0, ...fourccBytes(fourcc), ...record]);
}

/** CodedFrames (with SI24 composition time for avc1/hvc1) or, when `cts` is 0 and `useX`, CodedFramesX. */
export function exVideoFrame(fourcc: string, keyframe: boolean, cts: number, data: Uint8Array, useX = false): Uint8Array {
  const withCts = fourcc === "avc1" || fourcc === "hvc1";
  const packetType = withCts && useX && cts === 0 ? 3 : 1;
  const head = [0x80 | ((keyframe ? 1 : 2) << 4) | packetType, ...fourccBytes(fourcc)];
  if (withCts && packetType === 1) head.push((cts >> 16) & 0xff, (cts >> 8) & 0xff, cts & 0xff);
  const out = new Uint8Array(head.length + data.byteLength);
  out.set(head);
  out.set(data, head.length);
  return out;
}

/** ExAudioTagHeader: SoundFormat 9 << 4 | AudioPacketType, FourCC, body. */
export function exAudio(fourcc: string, packetType: 0 | 1, body: Uint8Array): Uint8Array {
  return Uint8Array.from([(9 << 4) | packetType, ...fourccBytes(fourcc), ...body]);
}

export interface MediaMessage {
  kind: "audio" | "video";
  timestamp: number;
  payload: Uint8Array;
}

/**
 * Publishes over TCP: handshake, connect, createStream, publish `name`; when the server answers
 * NetStream.Publish.Start, sends the metadata and `media` (as fast as the socket takes it), then
 * FCUnpublish + deleteStream, and closes. Resolves with the onStatus codes received.
 */
export async function publishOverTcp(
  port: number,
  app: string,
  name: string,
  meta: Record<string, AmfValue>,
  media: MediaMessage[],
): Promise<string[]> {
  const wire = new ClientWire();
  const replies = new ServerReplies();
  let started!: () => void;
  let failed!: (e: Error) => void;
  const publishing = new Promise<void>((res, rej) => {
    started = res;
    failed = rej;
  });
  let handshaken = false;
  let streamId = 0;
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(s, chunk) {
        const msgs = replies.push(new Uint8Array(chunk));
        if (!handshaken && replies.s1) {
          handshaken = true;
          s.write(wire.c2(replies.s1));
          s.write(wire.setChunkSize(4096));
          s.write(wire.connect(app, `rtmp://127.0.0.1:${port}/${app}`));
        }
        for (const m of msgs) {
          if (m.typeId !== MSG.commandAmf0) continue;
          const c = decodeCommand(m);
          if (c.name === "_result" && c.transactionId === 1) {
            s.write(wire.command(0, "releaseStream", 2, null, name));
            s.write(wire.command(0, "FCPublish", 3, null, name));
            s.write(wire.command(0, "createStream", 4, null));
          } else if (c.name === "_result" && c.transactionId === 4) {
            streamId = c.args[1] as number;
            s.write(wire.command(streamId, "publish", 5, null, name, "live"));
          } else if (c.name === "onStatus") {
            const code = String(amfGet(c.args[1] ?? null, "code"));
            if (code === "NetStream.Publish.Start") started();
            else failed(new Error(code));
          }
        }
      },
      close() {
        failed(new Error("closed"));
      },
      error(_s, e) {
        failed(e);
      },
    },
  });
  socket.write(wire.hello());
  await publishing;
  const out: Uint8Array[] = [wire.metadata(streamId, meta)];
  for (const m of media) out.push(wire.media(m.kind, streamId, m.timestamp, m.payload));
  out.push(wire.command(streamId, "FCUnpublish", 6, null, name), wire.command(streamId, "deleteStream", 7, null, streamId));
  const all = new Uint8Array(out.reduce((n, b) => n + b.byteLength, 0));
  let at = 0;
  for (const b of out) {
    all.set(b, at);
    at += b.byteLength;
  }
  // Write with backpressure: Bun's socket.write may take only part of a large buffer.
  for (let pos = 0; pos < all.byteLength; ) {
    const n = socket.write(all.subarray(pos));
    pos += Math.max(0, n);
    if (pos < all.byteLength) await Bun.sleep(2);
  }
  await Bun.sleep(50);
  socket.end();
  return replies.statusCodes();
}
