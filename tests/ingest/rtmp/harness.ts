import type { Socket } from "bun";
import type { ParseError } from "../../../src/container/errors.ts";
import type { CodedFrame, DemuxEvent, TrackConfig } from "../../../src/container/remux/frame.ts";
import {
  createRtmpConnection,
  type PublishRefusalCode,
  type RtmpConnection,
  type RtmpPublishRequest,
} from "../../../src/ingest/rtmp/connection.ts";

/** What one test connection did. */
interface RtmpTestSession {
  conn: RtmpConnection;
  requests: RtmpPublishRequest[];
  events: DemuxEvent[];
  errors: ParseError[];
  warnings: string[];
  closeReasons: string[];
  unpublished: number;
  /** Resolves when the socket is closed (by either side). */
  closed: Promise<void>;
}

export type Decision = { accept: true } | { refuse: PublishRefusalCode; description: string };

export interface RtmpTestServer {
  port: number;
  sessions: RtmpTestSession[];
  stop(): void;
}

/**
 * A test-only RTMP server: Bun.listen on 127.0.0.1, one RtmpConnection per socket, a decision per
 * publish (after `decideAfterMs`, to exercise the asynchronous path), everything recorded.
 */
export function startRtmpTestServer(
  opts: { decide?: (req: RtmpPublishRequest) => Decision; decideAfterMs?: number; maxMessageBytes?: number } = {},
): RtmpTestServer {
  const sessions: RtmpTestSession[] = [];
  type Data = { session: RtmpTestSession; out: Uint8Array[]; ending: boolean; resolve: () => void };
  const flush = (socket: Socket<Data>): void => {
    const d = socket.data;
    while (d.out.length > 0) {
      const chunk = d.out[0]!;
      const n = socket.write(chunk);
      if (n < chunk.byteLength) {
        d.out[0] = chunk.subarray(Math.max(0, n));
        return;
      }
      d.out.shift();
    }
    if (d.ending) socket.end();
  };
  const server = Bun.listen<Data>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        let resolve!: () => void;
        const closed = new Promise<void>((r) => (resolve = r));
        const session = {
          requests: [],
          events: [],
          errors: [],
          warnings: [],
          closeReasons: [],
          unpublished: 0,
          closed,
        } as unknown as RtmpTestSession;
        socket.data = { session, out: [], ending: false, resolve };
        const close = (): void => {
          socket.data.ending = true;
          flush(socket);
        };
        session.conn = createRtmpConnection(
          { maxMessageBytes: opts.maxMessageBytes ?? 4 * 1024 * 1024, now: () => Date.now() },
          {
            onSend: (bytes) => {
              socket.data.out.push(bytes);
              flush(socket);
            },
            onPublish: (req) => {
              session.requests.push(req);
              const decision = opts.decide?.(req) ?? { accept: true };
              setTimeout(() => {
                if ("accept" in decision) session.conn.accept();
                else session.conn.refuse(decision.refuse, decision.description);
              }, opts.decideAfterMs ?? 5);
            },
            onMedia: (events) => session.events.push(...events),
            onUnpublish: () => session.unpublished++,
            onError: (err) => {
              session.errors.push(err);
              close();
            },
            onClose: (reason) => {
              session.closeReasons.push(reason);
              close();
            },
            onWarning: (code, detail) => session.warnings.push(`${code}: ${detail}`),
          },
        );
        sessions.push(session);
      },
      data(socket, chunk) {
        socket.data.session.conn.push(new Uint8Array(chunk));
      },
      drain(socket) {
        flush(socket);
      },
      close(socket) {
        socket.data.session.conn.end();
        socket.data.resolve();
      },
      error(socket) {
        socket.data.resolve();
      },
    },
  });
  return { port: server.port, sessions, stop: () => server.stop(true) };
}

export function framesOf(events: DemuxEvent[], kind: "video" | "audio"): CodedFrame[] {
  return events.flatMap((e) => (e.type === "frame" && e.frame.kind === kind ? [e.frame] : []));
}

export function tracksEvents(events: DemuxEvent[]): TrackConfig[][] {
  return events.flatMap((e) => (e.type === "tracks" ? [e.tracks] : []));
}
