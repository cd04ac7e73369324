import { describe, expect, test } from "bun:test";
import { type Config, ConfigError, parseConfig } from "../../src/config.ts";

const cfg = (argv: string[], env: Record<string, string> = {}): Config => {
  const r = parseConfig(argv, env);
  if (r.help) throw new Error("help");
  return r.config;
};

describe("cluster options", () => {
  test("single node by default; --redis and SLUICE_REDIS turn cluster mode on", () => {
    expect(cfg([]).redis).toBe("");
    expect(cfg([]).clusterLeaseSeconds).toBe(5);
    expect(cfg(["--redis", "redis://10.0.0.5:6379"]).redis).toBe("redis://10.0.0.5:6379");
    expect(cfg([], { SLUICE_REDIS: "redis://cache:6380/2" }).redis).toBe("redis://cache:6380/2");
    expect(cfg(["--redis=redis://a:1"], { SLUICE_REDIS: "redis://b:2" }).redis).toBe("redis://a:1");
    expect(cfg(["--cluster-lease-seconds", "2.5"], { SLUICE_CLUSTER_LEASE_SECONDS: "9" }).clusterLeaseSeconds).toBe(2.5);
  });

  test("a bad Redis URL or lease stops start with a message saying what to fix", () => {
    const bad = (argv: string[], re: RegExp) => {
      expect(() => cfg(argv)).toThrow(ConfigError);
      expect(() => cfg(argv)).toThrow(re);
    };
    bad(["--redis", "localhost:6379"], /--redis = "localhost:6379" is not a Redis URL starting with "redis:\/\/"/);
    bad(["--redis", "not a url"], /is not a Redis URL such as "redis:\/\/127\.0\.0\.1:6379"/);
    bad(["--redis", "http://host:6379"], /starting with "redis:\/\/"/);
    bad(["--redis", "redis://host:6379/a/b"], /database number/);
    bad(["--cluster-lease-seconds", "0.5"], /--cluster-lease-seconds must be from 1 to 300/);
    bad(["--cluster-lease-seconds", "soon"], /positive number of seconds/);
  });
});
