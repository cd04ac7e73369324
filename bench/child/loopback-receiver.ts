import { wallMs } from "../lib/clock.ts";

/**
 * Receiver process of the loopback bandwidth measurement (bench/lib/loopback.ts): listens on a free
 * loopback port, prints `port N`, and prints `done <wall ms>` once `bytes` have arrived, then exits
 * (exit 1 after 60 s without them).
 * Usage: bun bench/child/loopback-receiver.ts <bytes>
 */

const target = Number(process.argv[2]);
let got = 0;
const server = Bun.listen({
  hostname: "127.0.0.1",
  port: 0,
  socket: {
    data(_s, d) {
      got += d.byteLength;
      if (got >= target) {
        console.log(`done ${wallMs()}`);
        process.exit(0);
      }
    },
  },
});
console.log(`port ${server.port}`);
setTimeout(() => process.exit(1), 60_000);
