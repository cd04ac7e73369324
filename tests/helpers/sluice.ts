import { type Config, parseConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { type Sluice, startSluice } from "../../src/sluice.ts";

/** A Sluice on free loopback ports whose log lines are captured for assertions. */
export interface TestSluice extends Sluice {
  logs: string[];
  config: Config;
  /** Resolves when a log line matching `re` appears (or rejects after `ms`). */
  waitLog(re: RegExp, ms?: number): Promise<string>;
}

export async function startTestSluice(args: string[] = []): Promise<TestSluice> {
  const parsed = parseConfig(
    [
      ...(process.env.SLUICE_TEST_STATIC ? ["--static-dir", process.env.SLUICE_TEST_STATIC] : []),
      "--http-host",
      "127.0.0.1",
      "--http-port",
      "0",
      "--ingest-host",
      "127.0.0.1",
      "--ingest-port",
      "0",
      "--rtmp-host",
      "127.0.0.1",
      "--rtmp-port",
      "0",
      ...args,
    ],
    {},
  );
  if (parsed.help) throw new Error("unexpected --help");
  const logs: string[] = [];
  const log = createLogger("info", (l) => {
    logs.push(l);
    if (process.env.SLUICE_TEST_LOG) console.log(l);
  });
  const sluice = await startSluice(parsed.config, log);
  return {
    ...sluice,
    logs,
    config: parsed.config,
    async waitLog(re, ms = 10_000) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const hit = logs.find((l) => re.test(l));
        if (hit) return hit;
        await Bun.sleep(20);
      }
      throw new Error(`no log line matching ${re} within ${ms} ms; got:\n${logs.join("\n")}`);
    },
  };
}
