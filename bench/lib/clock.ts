/**
 * Wall-clock milliseconds with sub-millisecond resolution, comparable across Bun processes on this
 * machine: Bun's `performance.timeOrigin` is taken from CLOCK_REALTIME with microsecond precision, so
 * a publisher process and client processes can stamp the same fragment and subtract.
 */
export const wallMs = (): number => performance.timeOrigin + performance.now();
