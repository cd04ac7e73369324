import { ConfigError, helpText, parseConfig } from "./config.ts";
import { createLogger } from "./log.ts";
import { startSluice } from "./sluice.ts";

/** Entry point: `bun run src/main.ts [options]`. */
let parsed: ReturnType<typeof parseConfig>;
try {
  parsed = parseConfig(Bun.argv.slice(2), process.env);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  console.error(`sluice: ${e.message}`);
  process.exit(2);
}
if (parsed.help) {
  console.log(helpText());
  process.exit(0);
}
const log = createLogger(parsed.config.logLevel);
let sluice: Awaited<ReturnType<typeof startSluice>>;
try {
  sluice = await startSluice(parsed.config, log);
} catch (e) {
  console.error(`sluice: could not start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    log.info("shutdown", { signal: sig });
    const timer = setTimeout(() => process.exit(0), 2000);
    sluice.stop().finally(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  });
}
