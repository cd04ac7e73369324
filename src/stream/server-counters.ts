/**
 * Server-wide counters that outlive any one stream: parser errors by reason and refused connections
 * by kind and reason. Label sets are bounded: reasons come from fixed vocabularies in the code.
 */
export class ServerCounters {
  readonly parserErrors = new Map<string, number>();
  readonly rejected = new Map<string, number>();
  /** Slow-viewer events by stream, kept here so they survive the stream being forgotten. */
  viewersTotal = 0;

  /** Exceptions thrown by views that follow the fan-out, by view ("hls", "recording"). */
  readonly viewErrors = new Map<string, number>();

  viewError(view: string): void {
    this.viewErrors.set(view, (this.viewErrors.get(view) ?? 0) + 1);
  }

  parserError(reason: string): void {
    this.parserErrors.set(reason, (this.parserErrors.get(reason) ?? 0) + 1);
  }

  /** A refused connection: `kind` is "ingest" or "viewer". */
  reject(kind: "ingest" | "viewer", reason: string): void {
    const key = `${kind}\u0000${reason}`;
    this.rejected.set(key, (this.rejected.get(key) ?? 0) + 1);
  }

  /** Rejections as `[kind, reason, count]`. */
  rejections(): Array<[string, string, number]> {
    return [...this.rejected].map(([k, n]) => {
      const [kind, reason] = k.split("\u0000");
      return [kind!, reason!, n];
    });
  }
}
