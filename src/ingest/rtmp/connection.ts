import { ByteQueue } from "../../container/byte-queue.ts";
import { ParseError } from "../../container/errors.ts";
import { type FlvDemuxerStats, FlvMediaDemuxer } from "../../container/flv/demuxer.ts";
import type { DemuxEvent } from "../../container/remux/frame.ts";
import { splitAggregate } from "./aggregate.ts";
import { ChunkReader, type RtmpMessage } from "./chunk-reader.ts";
import { ChunkWriter, type OutgoingMessage } from "./chunk-writer.ts";
import { DEFAULT_CHUNK_SIZE, MSG, PEER_BANDWIDTH_LIMIT, USER_CONTROL } from "./constants.ts";
import { ServerHandshake } from "./handshake.ts";
import {
  acknowledgementMessage,
  decodeData,
  setChunkSizeMessage,
  setPeerBandwidthMessage,
  userControlMessage,
  windowAckSizeMessage,
} from "./messages.ts";
import { NetSession, type NetSessionHost, type PublishRefusalCode, type RtmpPublishRequest } from "./net-session.ts";

export type { PublishRefusalCode, RtmpPublishRequest } from "./net-session.ts";

export interface RtmpConnectionOptions {
  /** Longest RTMP message accepted (a video frame is one message); also bounds every buffer. */
  maxMessageBytes: number;
  /** Chunk size this server sends with (announced by Set Chunk Size right after connect). Default 4096. */
  chunkSize?: number;
  /** Wallclock, ms since the Unix epoch: frames' `arrivalMs`, the handshake's time field. */
  now(): number;
  /** Window Acknowledgement Size announced to the client, and the default ack window. Default 2,500,000. */
  windowAckSize?: number;
  /** Most chunk streams the client may open. Default 64. */
  maxChunkStreams?: number;
  /** Media bytes held while `onPublish` awaits `accept()`/`refuse()`; more is dropped. Default `maxMessageBytes`. */
  maxPendingMediaBytes?: number;
}

export interface RtmpHandlers {
  /** Bytes to write to the socket, in order. */
  onSend(bytes: Uint8Array): void;
  /** A client asks to publish: answer with `accept()` or `refuse()`, from inside this callback or later. */
  onPublish(request: RtmpPublishRequest): void;
  /** Demuxed media of the accepted publish, in order (`tracks` first; `end-of-stream` when it stops). */
  onMedia(events: DemuxEvent[]): void;
  /** The publisher stopped publishing (FCUnpublish, deleteStream, closeStream): after `end-of-stream`. */
  onUnpublish(): void;
  /** A protocol violation or hostile input: close the socket. No callback follows. */
  onError(err: ParseError): void;
  /** The connection is finished from this side (a refused publish): close the socket once the sent bytes are out. */
  onClose(reason: string): void;
  /** Something was ignored or repaired (once per kind): log it. */
  onWarning?(code: string, detail: string): void;
}

/** Counters for logs and tests. */
export interface RtmpStats {
  bytesIn: number;
  messagesIn: number;
  /** Media messages outside an accepted publish, or past `maxPendingMediaBytes` while deciding. */
  droppedMedia: number;
  acksSent: number;
  /** The current publish's demuxer counters (undefined before the first publish). */
  media: FlvDemuxerStats | undefined;
}

interface HeldMessage {
  msg: RtmpMessage;
  arrivalMs: number;
}

/**
 * One RTMP publisher connection, transport-free: feed it the socket's bytes with `push`, write what
 * `onSend` gives back. It speaks the handshake, the chunk stream (both directions), protocol and user
 * control (acks, ping), the NetConnection/NetStream commands of a publisher, and turns the published
 * FLV payloads (legacy and Enhanced RTMP) into DemuxEvents.
 *
 * Cost: amortised O(bytes) under any chunking of the input. Memory: the unparsed tail (at most one
 * chunk), partial messages (declared lengths capped at 2 × maxMessageBytes together), held media
 * (`maxPendingMediaBytes` while deciding; the demuxer's own bounded hold).
 */
export class RtmpConnection implements NetSessionHost {
  readonly stats: RtmpStats = { bytesIn: 0, messagesIn: 0, droppedMedia: 0, acksSent: 0, media: undefined };
  private readonly opts: Required<Omit<RtmpConnectionOptions, "now">> & Pick<RtmpConnectionOptions, "now">;
  private readonly handlers: RtmpHandlers;
  private readonly queue = new ByteQueue();
  private readonly handshake = new ServerHandshake();
  private readonly reader: ChunkReader;
  private readonly writer = new ChunkWriter(DEFAULT_CHUNK_SIZE);
  private readonly session: NetSession;
  private readonly startedAt: number;
  private closed = false;
  private peerWindow = 0;
  private lastAck = 0;
  private demuxer: FlvMediaDemuxer | undefined;
  private held: HeldMessage[] = [];
  private heldBytes = 0;
  /** Events gathered during one push/accept, handed to onMedia at its end. */
  private pending: DemuxEvent[] = [];
  private arrivalMs = 0;

  constructor(options: RtmpConnectionOptions, handlers: RtmpHandlers) {
    this.opts = {
      chunkSize: 4096,
      windowAckSize: 2_500_000,
      maxChunkStreams: 64,
      maxPendingMediaBytes: options.maxMessageBytes,
      ...options,
    };
    this.handlers = handlers;
    this.startedAt = options.now();
    this.reader = new ChunkReader({
      maxMessageBytes: options.maxMessageBytes,
      maxChunkStreams: this.opts.maxChunkStreams,
      maxPartialBytes: 2 * options.maxMessageBytes,
    });
    this.session = new NetSession(this);
  }

  /** Where the connection is: handshake, connect, publishing... (`closed` after an error, a refusal or `end`). */
  get state(): string {
    if (this.closed) return "closed";
    return this.handshake.done ? this.session.state : "handshake";
  }

  /** Feeds bytes received from the socket. Does nothing once closed. */
  push(bytes: Uint8Array): void {
    if (this.closed || bytes.byteLength === 0) return;
    this.arrivalMs = this.opts.now();
    this.stats.bytesIn += bytes.byteLength;
    this.queue.push(bytes);
    this.guard(() => {
      while (!this.handshake.done) {
        const reply = this.handshake.advance(this.queue, this.arrivalMs - this.startedAt);
        if (reply) this.handlers.onSend(reply);
        else if (!this.handshake.done) return;
      }
      for (let msg = this.reader.read(this.queue); msg && !this.closed; msg = this.reader.read(this.queue)) this.onMessage(msg);
      this.acknowledge();
    });
  }

  /** Accepts the pending publish: NetStream.Publish.Start, then held media flows to `onMedia`. No-op unless a publish awaits. */
  accept(): void {
    if (this.closed || this.session.state !== "deciding") return;
    this.guard(() => {
      this.session.accepted();
      const held = this.held;
      this.held = [];
      this.heldBytes = 0;
      for (const h of held) this.media(h.msg, h.arrivalMs);
    });
  }

  /** Refuses the pending publish with an error-level onStatus, then `onClose`. No-op unless a publish awaits. */
  refuse(code: PublishRefusalCode, description: string): void {
    if (this.closed || this.session.state !== "deciding") return;
    this.session.refused(code, description);
    this.held = [];
    this.closed = true;
    this.handlers.onClose(`publish refused: ${code}: ${description}`);
  }

  /** The socket closed: an accepted publish ends (held frames and `end-of-stream` to `onMedia`); nothing follows. */
  end(): void {
    if (this.closed) return;
    if (this.session.state === "publishing" && this.demuxer) this.handlers.onMedia(this.demuxer.end());
    this.closed = true;
  }

  // NetSessionHost: what the command layer needs from the connection.

  send(m: OutgoingMessage): void {
    this.handlers.onSend(this.writer.write(m));
  }

  /** connect succeeded: window, bandwidth and our chunk size go out before its _result (the order FMS uses). */
  sendConnectPreamble(): void {
    this.send(windowAckSizeMessage(this.opts.windowAckSize));
    this.send(setPeerBandwidthMessage(this.opts.windowAckSize, PEER_BANDWIDTH_LIMIT.dynamic));
    this.send(setChunkSizeMessage(this.opts.chunkSize));
    this.writer.setChunkSize(this.opts.chunkSize);
  }

  publishRequested(request: RtmpPublishRequest): void {
    this.demuxer = new FlvMediaDemuxer({
      maxHeldBytes: this.opts.maxMessageBytes,
      warn: (code, detail) => this.handlers.onWarning?.(code, detail),
    });
    this.stats.media = this.demuxer.stats;
    this.handlers.onPublish(request);
  }

  unpublished(wasPublishing: boolean): void {
    if (wasPublishing && this.demuxer) this.pending.push(...this.demuxer.end());
    this.held = [];
    this.heldBytes = 0;
    this.flush();
    this.handlers.onUnpublish();
  }

  private onMessage(msg: RtmpMessage): void {
    this.stats.messagesIn++;
    switch (msg.typeId) {
      case MSG.audio:
      case MSG.video:
      case MSG.dataAmf0:
      case MSG.dataAmf3:
        return this.mediaOrHold(msg);
      case MSG.aggregate:
        for (const sub of splitAggregate(msg)) this.mediaOrHold(sub);
        return;
      case MSG.commandAmf0:
      case MSG.commandAmf3:
        return this.session.command(msg);
      case MSG.userControl:
        return this.userControl(msg.payload);
      case MSG.windowAckSize:
        if (msg.payload.byteLength >= 4) this.peerWindow = new DataView(msg.payload.buffer, msg.payload.byteOffset, 4).getUint32(0);
        return;
      default:
        // Acknowledgement, Set Peer Bandwidth (we send too little for it to matter), shared objects: nothing to do.
        return;
    }
  }

  private mediaOrHold(msg: RtmpMessage): void {
    const state = this.session.state;
    if (msg.streamId !== this.session.publishStreamId || (state !== "publishing" && state !== "deciding")) {
      this.stats.droppedMedia++;
      return;
    }
    if (state === "publishing") return this.media(msg, this.arrivalMs);
    if (this.heldBytes + msg.payload.byteLength > this.opts.maxPendingMediaBytes) {
      this.stats.droppedMedia++;
      return;
    }
    this.held.push({ msg, arrivalMs: this.arrivalMs });
    this.heldBytes += msg.payload.byteLength;
  }

  private media(msg: RtmpMessage, arrivalMs: number): void {
    const d = this.demuxer!;
    if (msg.typeId === MSG.video) this.pending.push(...d.video(msg.timestamp, msg.payload, arrivalMs));
    else if (msg.typeId === MSG.audio) this.pending.push(...d.audio(msg.timestamp, msg.payload, arrivalMs));
    else this.data(msg);
  }

  /**
   * @setDataFrame("onMetaData", meta) (as ffmpeg/OBS send it) or onMetaData(meta) (FLV style). Metadata
   * is only a fallback, so an undecodable data message is warned about and skipped, not fatal.
   */
  private data(msg: RtmpMessage): void {
    let decoded: ReturnType<typeof decodeData>;
    try {
      decoded = decodeData(msg);
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.handlers.onWarning?.("bad-data-message", `data message skipped: ${e.message}`);
      return;
    }
    const { name, args } = decoded;
    const meta = name === "@setDataFrame" ? (args[0] === "onMetaData" ? args[1] : undefined) : name === "onMetaData" ? args[0] : undefined;
    if (meta !== undefined) this.demuxer!.metadata(meta);
  }

  private userControl(p: Uint8Array): void {
    if (p.byteLength < 2) throw new ParseError("malformed", "User Control message shorter than 2 bytes");
    const view = new DataView(p.buffer, p.byteOffset, p.byteLength);
    // §7.1.7: answer a PingRequest with its timestamp.
    if (view.getUint16(0) === USER_CONTROL.pingRequest && p.byteLength >= 6)
      this.send(userControlMessage(USER_CONTROL.pingResponse, view.getUint32(2)));
  }

  /** §5.4.3: an Acknowledgement once the bytes received since the last one reach the window. */
  private acknowledge(): void {
    const window = this.peerWindow || this.opts.windowAckSize;
    if (this.stats.bytesIn - this.lastAck < window) return;
    this.lastAck = this.stats.bytesIn;
    this.stats.acksSent++;
    this.send(acknowledgementMessage(this.stats.bytesIn));
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    this.handlers.onMedia(events);
  }

  /** Runs `fn`, then hands over gathered media; a ParseError closes the connection through `onError`. */
  private guard(fn: () => void): void {
    try {
      fn();
      this.flush();
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
      this.flush();
      this.closed = true;
      this.handlers.onError(e);
    }
  }
}

/** Creates a connection (see `RtmpConnection`). */
export function createRtmpConnection(options: RtmpConnectionOptions, handlers: RtmpHandlers): RtmpConnection {
  return new RtmpConnection(options, handlers);
}
