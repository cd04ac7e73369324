import type { Subprocess } from "bun";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";

/**
 * A throwaway `redis-server` for cluster tests: loopback only, no persistence, on a free port that
 * stays the same across `kill()` + `start()` (to test an outage and a restart). Missing redis-server
 * is a test failure with a message saying how to install it, never a skip.
 */
export interface TestRedis {
  port: number;
  url: string;
  /** SIGKILL (a crash): every key and connection is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port (empty: nothing was saved). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

const BIN = "redis-server";

export async function startTestRedis(): Promise<TestRedis> {
  if (!Bun.which(BIN)) {
    throw new Error(
      `${BIN} is not installed: cluster tests need a real Redis. Install it with "apt-get install -y redis-server" (scripts/setup.sh does)`,
    );
  }
  const port = freePort();
  let proc: Subprocess | undefined;
  const start = async () => {
    proc = Bun.spawn([BIN, "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "no"], {
      stdout: "ignore",
      stderr: "pipe",
    });
    const end = Date.now() + 10_000;
    for (;;) {
      if (await ping(port)) return;
      if (proc.exitCode !== null)
        throw new Error(`${BIN} exited with ${proc.exitCode}: ${await new Response(proc.stderr as ReadableStream).text()}`);
      if (Date.now() > end) throw new Error(`${BIN} did not answer on port ${port} within 10 s`);
      await Bun.sleep(20);
    }
  };
  await start();
  const kill = async () => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGKILL");
    await proc.exited;
  };
  return { port, url: `redis://127.0.0.1:${port}`, kill, start, stop: kill };
}

/** A free loopback port (bound, read, released). */
function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Whether a Redis answers PING on `port` (raw RESP, no client library). */
async function ping(port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 500);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          s.write("PING\r\n");
        },
        data(s, d) {
          clearTimeout(timer);
          resolve(new TextDecoder().decode(d).startsWith("+PONG"));
          s.end();
        },
        error() {
          clearTimeout(timer);
          resolve(false);
        },
        connectError() {
          clearTimeout(timer);
          resolve(false);
        },
      },
    }).catch(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/** Two Sluice nodes on `redis` with a 2 s lease (short, so failure tests finish quickly). */
export async function startTwoNodes(redis: TestRedis): Promise<[TestSluice, TestSluice]> {
  const args = ["--redis", redis.url, "--cluster-lease-seconds", "2"];
  return [await startTestSluice(args), await startTestSluice(args)];
}
