import { join } from "node:path";

/**
 * Bundles the browser player (`<staticDir>/sluice-player.ts` and what it imports) with Bun's own
 * bundler into one ES module, in memory, once at start: no separate build step for the user.
 * Throws with Bun's build messages when the player does not compile.
 */
export async function bundlePlayer(staticDir: string): Promise<string> {
  const result = await Bun.build({
    entrypoints: [join(staticDir, "sluice-player.ts")],
    target: "browser",
    format: "esm",
    minify: true,
    sourcemap: "inline",
  });
  if (!result.success || !result.outputs[0]) {
    throw new Error(`the player in ${staticDir} failed to build:\n${result.logs.map(String).join("\n")}`);
  }
  return await result.outputs[0].text();
}
