import type { PublisherAdmission } from "./admission.ts";

/**
 * The one idle watchdog for every publisher, whatever its transport: a publisher that sent nothing for
 * `idleSeconds` is closed (`idle-timeout`) and its connection dropped. One timer for all of them: Bun's
 * per-socket timeout is coarse and not reset by incoming data, and an HTTP body has none.
 * Returns a stop function.
 */
export function startIdleWatchdog(admission: PublisherAdmission, idleSeconds: number): () => void {
  const timer = setInterval(
    () => {
      const before = performance.now() - idleSeconds * 1000;
      for (const stream of admission.streams()) admission.closeIfIdle(stream, before, idleSeconds);
    },
    Math.min(1000, (idleSeconds * 1000) / 4),
  );
  return () => clearInterval(timer);
}
