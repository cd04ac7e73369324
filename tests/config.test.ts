import { describe, expect, test } from "bun:test";
import { type Config, ConfigError, helpText, OPTIONS, parseConfig } from "../src/config.ts";

const cfg = (argv: string[], env: Record<string, string> = {}): Config => {
  const r = parseConfig(argv, env);
  if (r.help) throw new Error("help");
  return r.config;
};

describe("config", () => {
  test("defaults match the documented ones", () => {
    const c = cfg([]);
    expect(c).toMatchObject({ ingestHost: "0.0.0.0", ingestPort: 9090, ingestStream: "live", httpHost: "0.0.0.0", httpPort: 8080 });
    expect(c.maxElementBytes).toBe(32 * 1024 * 1024);
    expect(c.extraIngests).toEqual([]);
  });

  test("environment overrides defaults and flags override the environment", () => {
    expect(cfg([], { SLUICE_HTTP_PORT: "8181" }).httpPort).toBe(8181);
    expect(cfg(["--http-port", "8282"], { SLUICE_HTTP_PORT: "8181" }).httpPort).toBe(8282);
    expect(cfg(["--http-port=8383"]).httpPort).toBe(8383);
  });

  test("byte sizes accept units", () => {
    expect(cfg(["--gop-cache-bytes", "512KiB"]).gopCacheBytes).toBe(512 * 1024);
    expect(cfg(["--max-element-bytes", "1MB"]).maxElementBytes).toBe(1_000_000);
  });

  test("--ingest repeats and the environment takes a comma-separated list", () => {
    expect(cfg(["--ingest", "9091=cam2", "--ingest", "9092=cam3"]).extraIngests).toEqual([
      { port: 9091, stream: "cam2" },
      { port: 9092, stream: "cam3" },
    ]);
    expect(cfg([], { SLUICE_INGEST: "9091=cam2,9092=cam3" }).extraIngests).toHaveLength(2);
  });

  test("RTMP, UDP ingest and the remux fragment length: defaults, values, and what is refused", () => {
    const d = cfg([]);
    expect([d.rtmpHost, d.rtmpPort, d.udpIngests, d.remuxFragment]).toEqual(["0.0.0.0", 1935, [], "frame"]);
    expect(cfg(["--rtmp-port", "off"]).rtmpPort).toBeNull();
    expect(cfg(["--remux-fragment", "100"]).remuxFragment).toEqual({ ms: 100 });
    expect(cfg(["--ingest-udp", "5000=cam", "--ingest-udp", "5001=cam2"]).udpIngests).toEqual([
      { port: 5000, stream: "cam" },
      { port: 5001, stream: "cam2" },
    ]);
    expect(() => cfg(["--remux-fragment", "0"])).toThrow(/"frame" or a number of milliseconds/);
    expect(() => cfg(["--rtmp-port", "8080"])).toThrow(/TCP port 8080 is used twice/);
    expect(() => cfg(["--ingest-udp", "5000=a,5000=b"])).toThrow(/UDP port 5000 is given twice/);
    expect(() => cfg(["--ingest-udp", "5000=live"])).toThrow(/stream "live" is fed by two ingest ports/);
  });

  test("--help is recognised and the help text lists every option with its variable", () => {
    expect(parseConfig(["--help"], {}).help).toBe(true);
    const text = helpText();
    for (const o of OPTIONS) {
      expect(text).toContain(o.flag);
      expect(text).toContain(o.env);
    }
  });

  test.each([
    [["--http-port", "70000"], /--http-port = "70000" is not a port number/],
    [["--ingest-stream", "bad name!"], /not a stream name/],
    [["--gop-cache-bytes", "lots"], /not a byte count/],
    [["--nope"], /unknown option "--nope"/],
    [["--http-port"], /--http-port needs a value/],
    [["--gop-cache-bytes", "64MiB"], /--viewer-buffer-bytes .* must be larger than --gop-cache-bytes/],
    [["--http-port", "9090"], /port 9090 is used twice/],
    [["--ingest", "9091=live"], /stream "live" is fed by two ingest ports/],
    [["--ingest", "cam2"], /PORT=STREAM/],
    [["--log-level", "loud"], /one of "info", "warn", "silent"/],
  ])("rejects %p with a message saying what to fix", (argv, message) => {
    expect(() => parseConfig(argv, {})).toThrow(ConfigError);
    expect(() => parseConfig(argv, {})).toThrow(message);
  });

  test("recording: off by default; directory, stream selection, rotation, age with units, bytes, queue", () => {
    const d = cfg([]);
    expect([d.recordDir, d.recordStreams, d.recordRotateMinutes, d.recordMaxAgeMs, d.recordMaxBytes, d.recordQueueBytes]).toEqual([
      "",
      [],
      10,
      0,
      0,
      32 * 1024 * 1024,
    ]);
    const c = cfg(["--record", "/var/rec", "--record-streams", "cam1, cam2", "--record-rotate-minutes", "0.5", "--record-max-age", "48h"]);
    expect([c.recordDir, c.recordStreams, c.recordRotateMinutes, c.recordMaxAgeMs]).toEqual([
      "/var/rec",
      ["cam1", "cam2"],
      0.5,
      48 * 3_600_000,
    ]);
    expect(cfg(["--record-max-age", "7d"]).recordMaxAgeMs).toBe(7 * 86_400_000);
    expect(cfg(["--record-max-age", "90m"]).recordMaxAgeMs).toBe(90 * 60_000);
    expect(cfg([], { SLUICE_RECORD_MAX_BYTES: "20GiB" }).recordMaxBytes).toBe(20 * 1024 ** 3);
    expect(() => cfg(["--record-max-age", "48"])).toThrow(/"30s", "90m", "48h" or "7d"/);
    expect(() => cfg(["--record-streams", "ok,bad name"])).toThrow(/comma-separated list of stream names/);
    expect(() => cfg(["--record-rotate-minutes", "0"])).toThrow(/minutes from 0.01 to 1440/);
    expect(() => cfg(["--record", "/r", "--record-queue-bytes", "100KiB"])).toThrow(/--record-queue-bytes must be at least 1MiB/);
  });

  test("LL-HLS: on by default with 200 ms parts; on|off, ranges and caps checked with what to fix", () => {
    const d = cfg([]);
    expect([d.hls, d.hlsPartMs, d.hlsSegments, d.hlsMaxBytes, d.hlsMaxWaiters, d.hlsEndedSeconds]).toEqual([
      true,
      200,
      12,
      64 << 20,
      4096,
      30,
    ]);
    expect(cfg(["--hls", "off"]).hls).toBe(false);
    expect(cfg([], { SLUICE_HLS: "off" }).hls).toBe(false);
    expect(cfg(["--hls-part-ms", "333", "--hls-segments", "20", "--hls-max-bytes", "16MiB"])).toMatchObject({
      hlsPartMs: 333,
      hlsSegments: 20,
      hlsMaxBytes: 16 << 20,
    });
    expect(() => cfg(["--hls", "maybe"])).toThrow(/--hls = "maybe" is not on or off/);
    expect(() => cfg(["--hls-part-ms", "20"])).toThrow(/--hls-part-ms must be from 50 to 5000/);
    expect(() => cfg(["--hls-segments", "2"])).toThrow(/--hls-segments must be from 3 to 1000/);
    expect(() => cfg(["--hls-max-bytes", "100KiB"])).toThrow(/--hls-max-bytes must be at least 1MiB/);
    expect(() => cfg(["--hls-max-waiters", "0"])).toThrow(/--hls-max-waiters/);
  });

  test("a bad environment variable is named in the error", () => {
    expect(() => parseConfig([], { SLUICE_INGEST_PORT: "x" })).toThrow(/environment variable SLUICE_INGEST_PORT = "x"/);
  });
});
