/**
 * Exponential reconnect backoff: `initialMs`, doubling per failed attempt up to `maxMs`, with ±20 %
 * jitter so that many viewers do not reconnect in lockstep after a server restart.
 */
export class Backoff {
  #attempt = 0;

  constructor(
    readonly initialMs = 500,
    readonly maxMs = 10_000,
  ) {}

  /** Delay before the next attempt; every call counts as one more failure. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** A connection proved healthy: start again from `initialMs`. */
  reset(): void {
    this.#attempt = 0;
  }
}
