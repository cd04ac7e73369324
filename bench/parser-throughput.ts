/**
 * Parser throughput on its own: `bun run bench/parser-throughput.ts [--quick]`.
 *
 * Measures what section 4 of BENCHMARKS.md measures (bench/lib/parser.ts): each benchmark recording
 * (720p H.264 + AAC fMP4 with ~100 ms and ~1 s fragments, VP8 + Opus WebM) fed in 64 KiB chunks to a
 * fresh Sluice push parser, next to a plain copy and `Uint8Array.slice` of the same chunks; median of
 * 9 repetitions (`--quick`: 3) of 5 passes each, after 3 warm-up repetitions, in this process.
 *
 * Takes a few seconds (plus ffmpeg making the recordings once into `.bench-tmp/`, up to a few
 * minutes, if `bun run bench` has not made them already).
 *
 * Results: printed to stdout (machine, date, command, then the same table as BENCHMARKS.md's
 * section 4); nothing is written. The committed parser figures are those in BENCHMARKS.md, from
 * `bun run bench`.
 */

import { machineInfo } from "./lib/machine.ts";
import { measureParser } from "./lib/parser.ts";
import { ensureRecordings, loadPlan } from "./lib/recording.ts";
import { renderParsers } from "./lib/report.ts";

const QUICK = process.argv.includes("--quick");
const paths = await ensureRecordings();
const plans = [await loadPlan(paths.fmp4Small), await loadPlan(paths.fmp4Large), await loadPlan(paths.webm)];
const parsers = plans.map((p) => measureParser(p, QUICK ? 3 : 9));
const m = machineInfo();
console.log(`# Parser throughput

Command (repo root): \`bun run bench/parser-throughput.ts${QUICK ? " --quick" : ""}\` on ${new Date().toISOString().replace("T", " ").slice(0, 16)} UTC.
Machine: ${m.nproc} CPUs (${m.cpuModel}), Linux ${m.kernel}; Bun ${m.bun}.

${renderParsers(parsers)}`);
