import { expect, setDefaultTimeout, test } from "bun:test";
import { join } from "node:path";

setDefaultTimeout(30_000);
const ROOT = join(import.meta.dir, "..");

test("--help prints every option and exits 0", () => {
  const r = Bun.spawnSync([process.execPath, "run", "src/main.ts", "--help"], { cwd: ROOT });
  expect(r.exitCode).toBe(0);
  const out = r.stdout.toString();
  for (const flag of [
    "--ingest-port",
    "--http-port",
    "--ingest-stream",
    "--gop-cache-bytes",
    "--viewer-buffer-bytes",
    "--max-element-bytes",
  ])
    expect(out).toContain(flag);
});

test("an invalid option exits 2 with a message saying what to fix", () => {
  const r = Bun.spawnSync([process.execPath, "run", "src/main.ts", "--http-port", "x"], { cwd: ROOT });
  expect(r.exitCode).toBe(2);
  expect(r.stderr.toString()).toContain('--http-port = "x" is not a port number');
});

test("bun run src/main.ts serves the player and stops cleanly on SIGTERM", async () => {
  const proc = Bun.spawn(
    [
      process.execPath,
      "run",
      "src/main.ts",
      "--http-host",
      "127.0.0.1",
      "--http-port",
      "0",
      "--ingest-host",
      "127.0.0.1",
      "--ingest-port",
      "0",
      "--rtmp-port",
      "0",
    ],
    {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const reader = proc.stdout.getReader();
  let out = "";
  let port = 0;
  while (!port) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`sluice exited early: ${out}${await new Response(proc.stderr).text()}`);
    out += new TextDecoder().decode(value);
    port = Number(/http-listening address=127\.0\.0\.1:(\d+)/.exec(out)?.[1] ?? 0);
  }
  expect(out).toMatch(/ingest-listening address=127\.0\.0\.1:\d+ stream=live/);
  const page = await fetch(`http://127.0.0.1:${port}/`);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("sluice-player");
  const js = await fetch(`http://127.0.0.1:${port}/sluice-player.js`);
  expect(js.headers.get("content-type")).toContain("javascript");
  expect((await js.text()).length).toBeGreaterThan(1000);
  const t0 = performance.now();
  proc.kill("SIGTERM");
  expect(await proc.exited).toBe(0);
  expect(performance.now() - t0).toBeLessThan(2500);
});
