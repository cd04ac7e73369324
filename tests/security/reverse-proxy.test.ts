import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { LOWLAT_MP4, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { connectViewer, sessions } from "../helpers/ws-viewer.ts";

setDefaultTimeout(60_000);

/**
 * The shipped reverse-proxy set-ups (scripts/proxy/nginx-sluice.conf, scripts/proxy/Caddyfile) with
 * Debian's nginx and Caddy in front of Sluice started with `--trusted-proxies 127.0.0.1/32`: HTTP ingest
 * and WebSocket viewers pass through, and Sluice sees the client address the proxy saw (clients connect
 * from other loopback addresses), so its allowlist works behind the proxy and a forged X-Forwarded-For is
 * useless. TLS is left out: the test swaps the TLS listener (nginx) or site name (Caddy) for plain HTTP on loopback.
 */
let sluice: TestSluice;
let proxyPort: number;

async function freePort(): Promise<number> {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Starts one of the shipped proxy set-ups in front of `sluice` on `proxyPort`; returns its process. */
async function startProxy(kind: "nginx" | "caddy"): Promise<Subprocess> {
  if (!Bun.which(kind)) throw new Error(`${kind} is not installed: run scripts/setup.sh (or "apt-get install -y ${kind}")`);
  const dir = mkdtempSync(join(tmpdir(), `sluice-${kind}-`));
  let proc: Subprocess;
  if (kind === "nginx") {
    const site = readFileSync(join(import.meta.dir, "../../scripts/proxy/nginx-sluice.conf"), "utf8")
      .replace("server 127.0.0.1:8080;", `server 127.0.0.1:${sluice.httpPort};`)
      .replace("listen 443 ssl;", `listen 127.0.0.1:${proxyPort};`)
      .replace(/^\s*ssl_certificate.*$/gm, "");
    writeFileSync(join(dir, "site.conf"), site);
    const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${dir}/${t};`).join(" ");
    writeFileSync(
      join(dir, "nginx.conf"),
      `daemon off;\nworker_processes 1;\npid ${dir}/nginx.pid;\nerror_log ${dir}/error.log warn;\nevents { worker_connections 256; }\nhttp { access_log off; ${temp} include ${dir}/site.conf; }\n`,
    );
    proc = Bun.spawn(["nginx", "-p", dir, "-c", join(dir, "nginx.conf")], { stdout: "ignore", stderr: "pipe" });
  } else {
    // Plain HTTP on loopback instead of the site name (no certificate), no admin endpoint.
    const site = readFileSync(join(import.meta.dir, "../../scripts/proxy/Caddyfile"), "utf8")
      .replace("video.example.com {", `http://127.0.0.1:${proxyPort} {`)
      .replace("reverse_proxy 127.0.0.1:8080", `reverse_proxy 127.0.0.1:${sluice.httpPort}`);
    writeFileSync(join(dir, "Caddyfile"), `{\n\tadmin off\n}\n${site}`);
    proc = Bun.spawn(["caddy", "run", "--adapter", "caddyfile", "--config", join(dir, "Caddyfile")], {
      stdout: "ignore",
      stderr: "pipe",
      env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    });
  }
  const end = Date.now() + 15_000;
  while (
    (await fetch(`http://127.0.0.1:${proxyPort}/healthz`).then(
      (r) => r.status,
      () => 0,
    )) !== 200
  ) {
    if (Date.now() > end || proc.exitCode !== null)
      throw new Error(`${kind} did not start: ${await new Response(proc.stderr as ReadableStream).text()}`);
    await Bun.sleep(50);
  }
  return proc;
}

/** A raw HTTP request from a chosen loopback source address; resolves with the status line. */
function requestFrom(localAddress: string, head: string, body = new Uint8Array(0)): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = "";
    const sock = net.connect({ host: "127.0.0.1", port: proxyPort, localAddress }, () => {
      sock.write(head);
      sock.write(body);
    });
    sock.on("data", (d) => {
      got += d.toString("latin1");
      if (got.includes("\r\n")) {
        resolve(got.slice(0, got.indexOf("\r\n")));
        sock.destroy();
      }
    });
    sock.on("error", reject);
  });
}

for (const kind of ["nginx", "caddy"] as const) {
  describe(`behind ${kind}`, () => {
    let proxy: Subprocess;
    beforeAll(async () => {
      // Only 127.0.0.7 may publish without a key; the proxy itself (127.0.0.1) is trusted, never allowed.
      sluice = await startTestSluice(["--trusted-proxies", "127.0.0.1/32", "--ingest-allow", "127.0.0.7/32"]);
      proxyPort = await freePort();
      proxy = await startProxy(kind);
    });
    afterAll(async () => {
      proxy?.kill();
      await proxy?.exited;
      await sluice?.stop();
    });

    const ingestHead = (name: string, extra = "") =>
      `PUT /ingest/${name} HTTP/1.1\r\nHost: 127.0.0.1:${proxyPort}\r\nContent-Length: 8\r\nConnection: close\r\n${extra}\r\n`;

    test("the allowed client publishes through the proxy; others are refused by their own address, forged headers or not", async () => {
      // 8 bytes of an ftyp header: admitted, then refused as truncated (400) — not 403.
      const bytes = new Uint8Array([0, 0, 0, 24, 0x66, 0x74, 0x79, 0x70]);
      expect(await requestFrom("127.0.0.7", ingestHead("a"), bytes)).toMatch(/ 400 /);
      await sluice.waitLog(/publisher-connected stream=a remote=127\.0\.0\.7:/);
      expect(await requestFrom("127.0.0.8", ingestHead("b"), bytes)).toMatch(/ 403 /);
      expect(await requestFrom("127.0.0.8", ingestHead("c", "X-Forwarded-For: 127.0.0.7\r\n"), bytes)).toMatch(/ 403 /);
      expect(await requestFrom("127.0.0.1", ingestHead("d"), bytes)).toMatch(/ 403 /);
      expect(
        sluice.logs
          .filter((l) => /publisher-refused stream=[bcd] .*reason=address-not-allowed/.test(l))
          .map((l) => /remote=([\d.]+):/.exec(l)?.[1]),
      ).toEqual(["127.0.0.8", "127.0.0.8", "127.0.0.1"]);
    });

    test("ffmpeg publishes a chunked body through the proxy and a WebSocket viewer through the proxy plays it", async () => {
      // ffmpeg cannot choose its source address: a small TCP relay connects to the proxy from the allowed 127.0.0.7.
      const relay = Bun.listen({
        hostname: "127.0.0.1",
        port: 0,
        socket: {
          open(s) {
            const up = net.connect({ host: "127.0.0.1", port: proxyPort, localAddress: "127.0.0.7" });
            (s as unknown as { data: net.Socket }).data = up;
            up.on("data", (d) => s.write(d));
            up.on("close", () => s.end());
          },
          data(s, d) {
            (s as unknown as { data: net.Socket }).data.write(d);
          },
          close(s) {
            (s as unknown as { data: net.Socket }).data.end();
          },
        },
      });
      const viewer = await connectViewer(`ws://127.0.0.1:${proxyPort}/ws/cam`);
      const ff = runFfmpeg(LOWLAT_MP4(3, `http://127.0.0.1:${relay.port}/ingest/cam`, ["-method", "PUT"]));
      await viewer.until((m) => (sessions(m)[0]?.fragments.length ?? 0) >= 10, 20_000, `fragments through ${kind}`);
      expect(await ff.done, await ff.stderr()).toBe(0);
      await sluice.waitLog(/publisher-connected stream=cam remote=127\.0\.0\.7:/);
      expect(sluice.logs.some((l) => /viewer-join stream=cam remote=127\.0\.0\.1:/.test(l))).toBe(true);
      viewer.close();
      relay.stop(true);
    });
  });
}
