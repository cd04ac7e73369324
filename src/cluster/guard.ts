import type { Logger } from "../log.ts";

/**
 * Containment for cluster code run from Redis events, timers and sink callbacks: an unexpected
 * exception (or rejection) never escapes to the event loop, where it would end the process. It is
 * counted (`errors`, shown in `/healthz`) and logged as `cluster-internal-error`, once per place and
 * stream: a fault that repeats for every message does not flood the log.
 */
export interface Guard {
  /** Runs `fn` now; returns its result, or undefined when it threw (counted and logged, not thrown). */
  run<T>(what: string, stream: string | undefined, fn: () => T): T | undefined;
  /** Awaits `fn`; resolves undefined when it threw or rejected (counted and logged). Never rejects. */
  settle<T>(what: string, stream: string | undefined, fn: () => Promise<T>): Promise<T | undefined>;
  readonly errors: number;
}

/** Most distinct (place, stream) pairs logged; past that, errors are only counted. */
const MAX_LOGGED = 256;

/**
 * A bounded "first time?" test: true the first time `key` is asked about, while fewer than `cap`
 * keys are remembered; false otherwise (a flood of new keys is not logged past the cap).
 */
export function firstTime(cap: number): (key: string) => boolean {
  const seen = new Set<string>();
  return (key) => {
    if (seen.has(key) || seen.size >= cap) return false;
    seen.add(key);
    return true;
  };
}

export function createGuard(log: Logger, nodeId: string): Guard {
  let errors = 0;
  const first = firstTime(MAX_LOGGED);
  const failed = (what: string, stream: string | undefined, e: unknown) => {
    errors++;
    if (!first(`${what}\n${stream ?? ""}`)) return;
    let error = "unknown";
    try {
      error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    } catch {
      // a thrown value that cannot be printed
    }
    log.warn("cluster-internal-error", {
      stream,
      node: nodeId,
      in: what,
      error,
      errors,
      message: "unexpected error contained; repeats are counted in /healthz, not logged",
    });
  };
  return {
    run(what, stream, fn) {
      try {
        return fn();
      } catch (e) {
        failed(what, stream, e);
        return undefined;
      }
    },
    async settle(what, stream, fn) {
      try {
        return await fn();
      } catch (e) {
        failed(what, stream, e);
        return undefined;
      }
    },
    get errors() {
      return errors;
    },
  };
}
