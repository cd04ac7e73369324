import { describe, expect, test } from "bun:test";
import { parseConfig } from "../../src/config.ts";
import { type ClusterClaims, PublisherAdmission, type PublishRequest, type Refusal } from "../../src/ingest/admission.ts";
import type { PublisherSession } from "../../src/ingest/publisher-session.ts";
import { createLogger } from "../../src/log.ts";
import { StreamRegistry } from "../../src/stream/registry.ts";
import { ServerCounters } from "../../src/stream/server-counters.ts";
import type { StreamSink } from "../../src/stream/sink.ts";

/** The one admission path: every refusal tagged, logged once and counted; the per-address slot held for the session's life. */
function setup(args: string[] = [], cluster?: ClusterClaims) {
  const parsed = parseConfig(args, {});
  if (parsed.help) throw new Error("help");
  const logs: string[] = [];
  const counters = new ServerCounters();
  const registry = new StreamRegistry(1 << 20);
  const events: string[] = [];
  const sink: StreamSink = {
    started: (s) => events.push(`started ${s.name}`),
    fragment: () => {},
    ended: (s) => events.push(`ended ${s.name}`),
    skipped: () => {},
  };
  const admission = new PublisherAdmission(parsed.config, {
    registry,
    sink,
    log: createLogger("info", (l) => logs.push(l)),
    counters,
    cluster,
  });
  return { admission, logs, counters, registry, events };
}

const req = (stream: string, over: Partial<PublishRequest> = {}): PublishRequest => ({
  stream,
  address: "127.0.0.1",
  remote: "127.0.0.1:5000",
  keyed: false,
  ...over,
});
const refused = (r: PublisherSession | Refusal) => ("refused" in r ? r.refused : "admitted");

describe("publisher admission", () => {
  test("names, keys and addresses: each refusal has its tag, one log line and one counter", async () => {
    const { admission, logs, counters } = setup(["--stream-key", "cam=key-for-cam", "--ingest-allow", "10.0.0.0/8"]);
    expect(refused(await admission.admit(req("bad name"), () => {}))).toBe("invalid-name");
    expect(refused(await admission.admit(req("cam", { keyed: true }), () => {}))).toBe("missing-key");
    expect(refused(await admission.admit(req("cam", { keyed: true, key: "nope-nope" }), () => {}))).toBe("bad-key");
    expect(refused(await admission.admit(req("open"), () => {}))).toBe("address-not-allowed");
    // Raw TCP carries no key: a keyed stream over TCP is decided by the address alone.
    expect(refused(await admission.admit(req("cam", { address: "10.1.1.1" }), () => {}))).toBe("admitted");
    expect(refused(await admission.admit(req("other", { keyed: true, address: "10.1.1.1" }), () => {}))).toBe("admitted");
    expect(refused(await admission.admit(req("x", { keyed: true, key: "key-for-cam" }), () => {}))).toBe("address-not-allowed");
    expect(logs.filter((l) => l.includes("publisher-refused"))).toHaveLength(5);
    expect(
      counters
        .rejections()
        .map(([, reason, n]) => `${reason}=${n}`)
        .sort(),
    ).toEqual(["address-not-allowed=2", "bad-key=1", "invalid-name=1", "missing-key=1"]);
  });

  test("inherited names never find a key", async () => {
    const { admission } = setup(["--ingest-allow", "10.0.0.0/8"]);
    for (const name of ["__proto__", "constructor", "toString"]) {
      expect(refused(await admission.admit(req(name, { keyed: true, key: "[object Object]" }), () => {}))).toBe("address-not-allowed");
    }
  });

  test("one publisher per stream unless takeover; takeover closes and disconnects the old one", async () => {
    const plain = setup();
    const first = (await plain.admission.admit(req("cam"), () => {})) as PublisherSession;
    expect(refused(await plain.admission.admit(req("cam", { remote: "127.0.0.1:6000" }), () => {}))).toBe("stream-busy");
    expect(first.closed).toBe(false);

    const { admission, logs } = setup(["--publisher-takeover", "true"]);
    let dropped = 0;
    const old = (await admission.admit(req("cam"), () => dropped++)) as PublisherSession;
    const replacement = (await admission.admit(req("cam", { remote: "127.0.0.1:6000" }), () => {})) as PublisherSession;
    expect(old.closed).toBe(true);
    expect(old.error?.reason).toBe("taken-over");
    expect(dropped).toBe(1);
    expect(replacement.closed).toBe(false);
    expect(logs.some((l) => l.includes("publisher-takeover stream=cam"))).toBe(true);
  });

  test("--max-publishers counts local sessions, and a closed session frees its place", async () => {
    const { admission, registry } = setup(["--max-publishers", "1"]);
    // A stream fed from elsewhere (the cluster bus claims it as `cluster:<node>`) is not a local publisher.
    registry.open("remote").claim("cluster:node-b", 0);
    const a = (await admission.admit(req("a"), () => {})) as PublisherSession;
    expect(refused(await admission.admit(req("b"), () => {}))).toBe("too-many-publishers");
    a.close();
    expect(refused(await admission.admit(req("b"), () => {}))).toBe("admitted");
  });

  test("the per-address slot is held for the session's life and given back on refusal and close", async () => {
    const { admission } = setup(["--max-ingest-per-address", "1"]);
    const a = (await admission.admit(req("a"), () => {})) as PublisherSession;
    expect(refused(await admission.admit(req("b"), () => {}))).toBe("too-many-from-address");
    expect(refused(await admission.admit(req("a", { address: "127.0.0.2" }), () => {}))).toBe("stream-busy");
    expect(refused(await admission.admit(req("b", { address: "127.0.0.2" }), () => {}))).toBe("admitted");
    a.close();
    expect(refused(await admission.admit(req("c"), () => {}))).toBe("admitted");
  });

  test("the cluster lease is awaited; a refusal from it is reported like any other, and a lease is released with its session", async () => {
    const released: string[] = [];
    const cluster: ClusterClaims = {
      acquire: async (name) =>
        name === "taken"
          ? { refused: "stream-busy-in-cluster", message: `stream "${name}" is published on node b` }
          : { release: () => released.push(name) },
    };
    const { admission, logs } = setup([], cluster);
    expect(refused(await admission.admit(req("taken"), () => {}))).toBe("stream-busy-in-cluster");
    expect(logs.some((l) => /publisher-refused stream=taken .*reason=stream-busy-in-cluster/.test(l))).toBe(true);
    const s = (await admission.admit(req("mine"), () => {})) as PublisherSession;
    expect(released).toEqual([]);
    s.close();
    expect(released).toEqual(["mine"]);
  });

  test("closeIfIdle ends only a session silent since the given time, and disconnects it", async () => {
    const { admission } = setup();
    let dropped = 0;
    const s = (await admission.admit(req("cam"), () => dropped++)) as PublisherSession;
    expect(admission.closeIfIdle("cam", s.lastDataAt - 1, 10)).toBe(false);
    expect(admission.closeIfIdle("cam", performance.now() + 1, 10)).toBe(true);
    expect(s.error?.reason).toBe("idle-timeout");
    expect(dropped).toBe(1);
    expect(admission.streams()).toEqual([]);
  });
});
