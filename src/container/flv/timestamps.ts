const WRAP = 2 ** 32;

/**
 * Unwraps RTMP/FLV 32-bit millisecond timestamps (Adobe RTMP spec §5.3.1.2.1: they wrap after ~49.7
 * days) into a monotonic timeline: each value is placed in the 2^32 epoch that puts it nearest to the
 * previous one, so a wrap moves forward and a small step back across the wrap stays small.
 */
export class TimestampUnwrapper {
  private last: number | undefined;

  next(ts32: number): number {
    if (this.last === undefined) {
      this.last = ts32;
      return ts32;
    }
    const epoch = Math.floor(this.last / WRAP) * WRAP;
    let v = epoch + ts32;
    if (v - this.last > WRAP / 2 && v >= WRAP) v -= WRAP;
    else if (this.last - v > WRAP / 2) v += WRAP;
    this.last = v;
    return v;
  }
}
