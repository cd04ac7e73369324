import { afterAll, beforeAll } from "bun:test";
import { type FfmpegRun, runFfmpeg } from "../helpers/ffmpeg.ts";
import { startTestSluice, type TestSluice } from "../helpers/sluice.ts";
import { type Browser, launchBrowser } from "./harness.ts";

/** One Chromium and one Sluice for a test file, and the publishers its tests start. */
export interface BrowserSuite {
  readonly sluice: TestSluice;
  readonly browser: Browser;
  /** Starts a publisher (real ffmpeg); whatever still runs is stopped after the file's tests. */
  publish(args: string[]): FfmpegRun;
}

/** Registers beforeAll/afterAll that launch the browser and Sluice (with `sluiceArgs`) and stop everything. */
export function browserSuite(sluiceArgs: string[] = []): BrowserSuite {
  let sluice: TestSluice | undefined;
  let browser: Browser | undefined;
  const runs: FfmpegRun[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
    sluice = await startTestSluice(sluiceArgs);
  }, 60_000);
  afterAll(async () => {
    for (const run of runs) run.stop();
    await Promise.all(runs.map((r) => r.done));
    await browser?.close();
    await sluice?.stop();
  }, 30_000);
  return {
    get sluice() {
      return sluice!;
    },
    get browser() {
      return browser!;
    },
    publish(args) {
      const run = runFfmpeg(args);
      runs.push(run);
      return run;
    },
  };
}
