/**
 * Load client process for bench/hls.ts: `count` LL-HLS players on one origin, each doing blocking
 * playlist reloads (`_HLS_msn`/`_HLS_part` of the next part) and fetching every new part of the newest
 * segment over keep-alive `fetch`, for `seconds`. Prints one JSON line with its counts and exits.
 * Usage: BUN_CONFIG_MAX_HTTP_REQUESTS=4096 bun bench/child/hls-players.ts '<PlayersConfig JSON>'
 */

interface PlayersConfig {
  /** `http://host:port/hls/<stream>/` */
  base: string;
  count: number;
  seconds: number;
}

export {};

const cfg = JSON.parse(process.argv[2] ?? "{}") as PlayersConfig;
const counts = { playlists: 0, parts: 0, partBytes: 0, errors: 0, statuses: new Map<number, number>() };
/** ms from asking for the next part's playlist to getting it: how long the origin held it. */
const held: number[] = [];

const next = (text: string): { msn: number; part: number } | undefined => {
  const seq = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1]);
  const hint = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="p-[0-9a-f]+-(\d+)-(\d+)\.m4s/.exec(text);
  if (!hint || !Number.isFinite(seq)) return undefined;
  return { msn: Number(hint[1]), part: Number(hint[2]) };
};
const newestParts = (text: string): string[] => {
  const lines = text.split("\n");
  const lastInf = lines.findLastIndex((l) => l.startsWith("#EXTINF"));
  return lines.slice(lastInf + 1).flatMap((l) => (l.startsWith("#EXT-X-PART:") ? [/URI="([^"]+)"/.exec(l)![1]!] : []));
};

async function player(stopAt: number): Promise<void> {
  const seen = new Set<string>();
  let text = await (await fetch(`${cfg.base}index.m3u8`)).text();
  while (Date.now() < stopAt) {
    const want = next(text);
    if (!want) break;
    const t0 = performance.now();
    const r = await fetch(`${cfg.base}index.m3u8?_HLS_msn=${want.msn}&_HLS_part=${want.part}`);
    counts.statuses.set(r.status, (counts.statuses.get(r.status) ?? 0) + 1);
    counts.playlists++;
    if (r.status !== 200) {
      counts.errors++;
      await r.text();
      await Bun.sleep(200);
      continue;
    }
    text = await r.text();
    held.push(performance.now() - t0);
    for (const uri of newestParts(text)) {
      if (seen.has(uri)) continue;
      seen.add(uri);
      const m = await fetch(cfg.base + uri);
      counts.statuses.set(m.status, (counts.statuses.get(m.status) ?? 0) + 1);
      counts.parts++;
      counts.partBytes += (await m.arrayBuffer()).byteLength;
      if (m.status !== 200) counts.errors++;
    }
  }
}

const started = Date.now();
const stopAt = started + cfg.seconds * 1000;
await Promise.all(Array.from({ length: cfg.count }, () => player(stopAt).catch(() => void counts.errors++)));
const elapsed = (Date.now() - started) / 1000;
held.sort((a, b) => a - b);
const cpu = process.cpuUsage();
console.log(
  JSON.stringify({
    elapsed,
    playlists: counts.playlists,
    parts: counts.parts,
    partBytes: counts.partBytes,
    errors: counts.errors,
    statuses: Object.fromEntries(counts.statuses),
    heldP50: held[Math.floor(held.length / 2)] ?? Number.NaN,
    heldP95: held[Math.floor(held.length * 0.95)] ?? Number.NaN,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  }),
);
