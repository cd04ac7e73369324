import type { Socket } from "bun";
import type { Config } from "../config.ts";
import { ParseError, type ParserEvent, type SniffingParser } from "../container/index.ts";
import { createFrameRemuxer, type FrameRemuxer } from "../container/remuxing-parser.ts";
import type { Logger } from "../log.ts";
import type { PublisherAdmission, RefusalReason } from "./admission.ts";
import type { PublisherSession } from "./publisher-session.ts";
import { createRtmpConnection, type PublishRefusalCode, type RtmpConnection, type RtmpPublishRequest } from "./rtmp/connection.ts";

export interface RtmpIngestOptions {
  hostname: string;
  port: number;
}

export interface RtmpIngest {
  port: number;
  /** Stops listening and closes every connection. */
  stop(): void;
}

export type RtmpIngestConfig = Pick<Config, "maxElementBytes" | "remuxFragment" | "maxIngestPerAddress" | "publisherIdleSeconds">;

/** How long a dropped connection gets to take our last bytes before it is reset. */
const DROP_GRACE_MS = 500;
/** Bytes we queue for a client that does not read (handshake and command answers are small). */
const MAX_OUTGOING_BYTES = 1024 * 1024;

/** The onStatus code each refusal gets (what OBS and ffmpeg show the user). */
const REFUSAL_CODES = new Map<RefusalReason, PublishRefusalCode>([
  ["invalid-name", "NetStream.Publish.BadName"],
  ["stream-busy", "NetStream.Publish.BadName"],
  ["stream-busy-in-cluster", "NetStream.Publish.BadName"],
  ["missing-key", "NetStream.Publish.Unauthorized"],
  ["bad-key", "NetStream.Publish.Unauthorized"],
  ["address-not-allowed", "NetStream.Publish.Unauthorized"],
]);

interface Conn {
  remote: string;
  address: string;
  rtmp: RtmpConnection;
  /** The remuxer of the current publish (one per publish request). */
  remux?: FrameRemuxer;
  /** The session of the accepted publish. */
  session?: PublisherSession;
  /** Fragments the remuxer produced that the session has not taken yet. */
  out: ParserEvent[];
  failure?: ParseError;
  /** Bytes `socket.write` did not take yet. */
  outgoing: Uint8Array[];
  outgoingBytes: number;
  closed: boolean;
  /** Cleared once a publish is accepted: a connection must publish within the idle timeout. */
  idleTimer?: ReturnType<typeof setTimeout>;
}

/**
 * RTMP / Enhanced RTMP publish ingest (`Bun.listen`): the protocol is `rtmp/connection.ts` (pure); this
 * file moves its bytes, asks `PublisherAdmission` (stream name from `rtmp://host/<app>/<stream>`, key
 * from `<stream>?key=K`, keyed like HTTP ingest) and turns a refusal into the onStatus error an RTMP
 * client shows. The accepted publish's frames go through the remuxer into a publisher session like any
 * other ingest (`format` "rtmp"). A connection that has not started publishing within
 * `--publisher-idle-seconds` is closed, and at most `--max-ingest-per-address` connections per address
 * may be open before publishing.
 */
export function listenRtmpIngest(
  options: RtmpIngestOptions,
  config: RtmpIngestConfig,
  admission: PublisherAdmission,
  log: Logger,
): RtmpIngest {
  const conns = new Set<Socket<Conn>>();
  const opening = new Map<string, number>();
  const release = (c: Conn) => {
    if (c.idleTimer === undefined) return;
    clearTimeout(c.idleTimer);
    c.idleTimer = undefined;
    const n = (opening.get(c.address) ?? 1) - 1;
    if (n > 0) opening.set(c.address, n);
    else opening.delete(c.address);
  };
  const drop = (socket: Socket<Conn>) => {
    release(socket.data);
    socket.end();
    setTimeout(() => socket.data.closed || socket.terminate(), DROP_GRACE_MS);
  };
  const write = (socket: Socket<Conn>, bytes: Uint8Array) => {
    const c = socket.data;
    if (c.outgoingBytes > 0) {
      c.outgoing.push(bytes);
      c.outgoingBytes += bytes.byteLength;
      if (c.outgoingBytes > MAX_OUTGOING_BYTES) drop(socket);
      return;
    }
    const n = socket.write(bytes);
    if (n < bytes.byteLength) {
      c.outgoing.push(bytes.slice(Math.max(n, 0)));
      c.outgoingBytes += bytes.byteLength - Math.max(n, 0);
    }
  };
  const flushOutgoing = (socket: Socket<Conn>) => {
    const c = socket.data;
    while (c.outgoing.length > 0) {
      const head = c.outgoing[0]!;
      const n = socket.write(head);
      if (n < head.byteLength) {
        c.outgoing[0] = head.subarray(Math.max(n, 0));
        c.outgoingBytes -= Math.max(n, 0);
        return;
      }
      c.outgoing.shift();
      c.outgoingBytes -= head.byteLength;
    }
  };

  /** The session's parser: the RTMP connection and the remuxer behind it. */
  const parserFor = (c: Conn): SniffingParser => {
    const take = () => {
      if (c.failure) throw c.failure;
      const events = c.out;
      c.out = [];
      return events;
    };
    return {
      format: "rtmp",
      get buffered() {
        return c.out.reduce((n, e) => n + e.bytes.byteLength, 0);
      },
      push(chunk) {
        c.rtmp.push(chunk);
        return take();
      },
      end() {
        // The publish is over: the connection's last frames, then what the remuxer still holds.
        c.rtmp.end();
        if (c.remux && !c.failure) for (const ev of c.remux.end()) c.out.push(ev);
        return take();
      },
    };
  };

  const onPublish = (socket: Socket<Conn>, request: RtmpPublishRequest) => {
    const c = socket.data;
    const remux = createFrameRemuxer("rtmp", { maxElementBytes: config.maxElementBytes, remuxFragment: config.remuxFragment });
    c.remux = remux;
    void admission
      .admit(
        { stream: request.streamName, address: c.address, remote: c.remote, key: request.key, keyed: true, parser: parserFor(c) },
        () => drop(socket),
      )
      .then((result) => {
        if (c.closed) {
          if (!("refused" in result)) result.close();
          return;
        }
        if ("refused" in result) {
          c.rtmp.refuse(REFUSAL_CODES.get(result.refused) ?? "NetStream.Publish.Denied", result.message);
          return;
        }
        release(c);
        c.session = result;
        c.rtmp.accept();
        // Hand the session what accept() released (an empty push only collects the remuxed events).
        if (!result.push(new Uint8Array(0))) drop(socket);
      });
  };

  const listener = Bun.listen<Conn>({
    hostname: options.hostname,
    port: options.port,
    socket: {
      open(socket) {
        const address = socket.remoteAddress;
        const c: Conn = {
          remote: `${address}:${socket.remotePort ?? "?"}`,
          address,
          out: [],
          outgoing: [],
          outgoingBytes: 0,
          closed: false,
          rtmp: undefined as unknown as RtmpConnection,
        };
        socket.data = c;
        conns.add(socket);
        const n = (opening.get(address) ?? 0) + 1;
        opening.set(address, n);
        c.idleTimer = setTimeout(() => {
          log.warn("rtmp-dropped", {
            remote: c.remote,
            reason: "no-publish",
            message: `no publish within ${config.publisherIdleSeconds} s`,
          });
          drop(socket);
        }, config.publisherIdleSeconds * 1000);
        if (n > config.maxIngestPerAddress) {
          log.warn("rtmp-dropped", { remote: c.remote, reason: "too-many-from-address", message: `${n} RTMP connections from ${address}` });
          return drop(socket);
        }
        c.rtmp = createRtmpConnection(
          { maxMessageBytes: config.maxElementBytes, now: Date.now },
          {
            onSend: (bytes) => write(socket, bytes),
            onPublish: (request) => onPublish(socket, request),
            onMedia: (events) => {
              if (c.failure || !c.remux) return;
              try {
                for (const ev of c.remux.push(events)) c.out.push(ev);
              } catch (e) {
                if (!(e instanceof ParseError)) throw e;
                c.failure = e;
              }
            },
            onUnpublish: () => {
              const session = c.session;
              c.session = undefined;
              session?.close(); // the publisher stopped cleanly: the parser's end() flushes the remuxer
            },
            onError: (err) => {
              c.failure = err;
              if (c.session) c.session.close({ reason: err.reason, message: err.message });
              else log.warn("rtmp-dropped", { remote: c.remote, reason: err.reason, message: err.message });
              drop(socket);
            },
            onClose: () => drop(socket),
            onWarning: (code, detail) => log.warn("rtmp-warning", { remote: c.remote, code, detail }),
          },
        );
      },
      data(socket, chunk) {
        const c = socket.data;
        if (c.session) {
          if (!c.session.push(chunk)) drop(socket);
        } else {
          c.rtmp?.push(chunk);
        }
      },
      drain(socket) {
        flushOutgoing(socket);
      },
      close(socket) {
        const c = socket.data;
        c.closed = true;
        release(c);
        conns.delete(socket);
        const session = c.session;
        c.session = undefined;
        if (session) session.close();
        else c.rtmp?.end();
      },
      error(socket, err) {
        socket.data.session?.close({ reason: "socket-error", message: err.message });
      },
    },
  });
  return {
    port: listener.port,
    stop() {
      listener.stop(true);
      for (const socket of conns) drop(socket);
      conns.clear();
    },
  };
}
