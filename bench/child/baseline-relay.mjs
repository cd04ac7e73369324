// ============================================================================================
// BASELINE — this is NOT Sluice. It is the architecture Sluice replaces, kept only so that
// `bun run bench` can compare against it: a jsmpeg-style relay (websocket-relay.js) on node.js.
// It reads the publisher's raw TCP stream with `net` and sends every received chunk, as is, to
// every WebSocket client with the `ws` library: no container parsing, no init segment or GOP
// cache for late joiners, no per-viewer backpressure limit.
// Usage: node bench/child/baseline-relay.mjs <httpPort> <ingestPort>   (both on 127.0.0.1)
// ============================================================================================
import net from "node:net";
import { WebSocket, WebSocketServer } from "ws";

const [httpPort, ingestPort] = process.argv.slice(2).map(Number);
if (!httpPort || !ingestPort) {
  console.error("usage: node bench/child/baseline-relay.mjs <httpPort> <ingestPort>");
  process.exit(2);
}

const wss = new WebSocketServer({ host: "127.0.0.1", port: httpPort, perMessageDeflate: false });

function broadcast(chunk) {
  for (const client of wss.clients) {
    if (client.readyState === WebSocket.OPEN) client.send(chunk, { binary: true });
  }
}

const ingest = net.createServer((socket) => {
  socket.on("data", broadcast);
  socket.on("error", () => socket.destroy());
});
ingest.listen(ingestPort, "127.0.0.1");

wss.on("listening", () => console.log(`baseline relay: ws :${httpPort}, ingest :${ingestPort}`));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(0));
