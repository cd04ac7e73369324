/** Viewer limits, under the config's own names. */
export interface ViewerLimits {
  maxViewers: number;
  maxViewersPerStream: number;
  maxViewersPerAddress: number;
}

/** A refused viewer: which limit, and a message for the HTTP answer and the log. */
export interface SlotRefusal {
  refused: "too-many-viewers" | "too-many-viewers-per-stream" | "too-many-viewers-from-address";
  message: string;
}

/** One admitted viewer's place in every limit. `release` is idempotent. */
export interface ViewerSlot {
  release(): void;
}

/**
 * Viewer admission counts: the server total, per stream and per client address. `reserve` checks and
 * takes a place in all three synchronously, before any `await` of the upgrade path, so a burst of
 * connections can never overshoot a limit (issue 10); the place is held until `release` (the socket
 * closed, or the upgrade never happened). Keys are Map keys, never plain-object keys.
 */
export class ViewerSlots {
  private total = 0;
  private readonly perStream = new Map<string, number>();
  private readonly perAddress = new Map<string, number>();
  private readonly limits: ViewerLimits;

  constructor(limits: ViewerLimits) {
    this.limits = limits;
  }

  /** Viewers admitted and not yet released. */
  get count(): number {
    return this.total;
  }

  reserve(stream: string, address: string): ViewerSlot | SlotRefusal {
    const l = this.limits;
    if (this.total >= l.maxViewers)
      return { refused: "too-many-viewers", message: `the server has ${l.maxViewers} viewers (--max-viewers)` };
    if ((this.perStream.get(stream) ?? 0) >= l.maxViewersPerStream) {
      return {
        refused: "too-many-viewers-per-stream",
        message: `stream ${stream} has ${l.maxViewersPerStream} viewers (--max-viewers-per-stream)`,
      };
    }
    if ((this.perAddress.get(address) ?? 0) >= l.maxViewersPerAddress) {
      return {
        refused: "too-many-viewers-from-address",
        message: `${address} already has ${l.maxViewersPerAddress} viewers (--max-viewers-per-address)`,
      };
    }
    this.total++;
    bump(this.perStream, stream, 1);
    bump(this.perAddress, address, 1);
    let held = true;
    return {
      release: () => {
        if (!held) return;
        held = false;
        this.total--;
        bump(this.perStream, stream, -1);
        bump(this.perAddress, address, -1);
      },
    };
  }
}

function bump(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}
