import type { Socket } from "bun";

/**
 * A loopback TCP proxy between a publisher and Sluice's ingest port that records every byte the
 * publisher sent, so tests can compare what viewers got with what ffmpeg really wrote.
 */
export interface TcpRecorder {
  port: number;
  /** Bytes of each accepted connection, in order. */
  connections: Uint8Array[][];
  stop(): void;
}

interface Pipe {
  chunks: Uint8Array[];
  queue: Uint8Array[];
  upstream?: Socket<undefined>;
  ended: boolean;
}

export function startTcpRecorder(targetPort: number): TcpRecorder {
  const connections: Uint8Array[][] = [];
  const flush = (p: Pipe) => {
    const up = p.upstream;
    if (!up) return;
    while (p.queue.length > 0) {
      const head = p.queue[0]!;
      const n = up.write(head);
      if (n < head.byteLength) {
        p.queue[0] = head.subarray(Math.max(n, 0));
        return; // the upstream's drain handler resumes
      }
      p.queue.shift();
    }
    if (p.ended) up.end();
  };
  const listener = Bun.listen<Pipe>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        const p: Pipe = { chunks: [], queue: [], ended: false };
        s.data = p;
        connections.push(p.chunks);
        void Bun.connect<undefined>({
          hostname: "127.0.0.1",
          port: targetPort,
          socket: { data() {}, drain: () => flush(p), close: () => void s.end(), error: () => void s.end() },
        }).then((up) => {
          p.upstream = up;
          flush(p);
        });
      },
      data(s, chunk) {
        const copy = new Uint8Array(chunk);
        s.data.chunks.push(copy);
        s.data.queue.push(copy);
        flush(s.data);
      },
      close(s) {
        s.data.ended = true;
        flush(s.data);
      },
    },
  });
  return { port: listener.port, connections, stop: () => listener.stop(true) };
}
