/**
 * Recording counters for /metrics: per stream (errors by reason, bytes written, fragments dropped by
 * the queue) and deletions by reason. Streams are validated names; at most `MAX_STREAMS` are kept,
 * the oldest forgotten first.
 */

const MAX_STREAMS = 1024;

interface PerStream {
  written: number;
  dropped: number;
  errors: Map<string, number>;
  queued: () => number;
}

/** A metric family as src/server/metrics.ts renders it. */
export interface RecordingFamily {
  name: string;
  type: "counter" | "gauge";
  help: string;
  samples: Array<[Record<string, string>, number]>;
}

export class RecordingStats {
  private readonly streams = new Map<string, PerStream>();
  readonly deleted = new Map<"age" | "bytes", number>();

  of(stream: string): PerStream {
    let s = this.streams.get(stream);
    if (!s) {
      if (this.streams.size >= MAX_STREAMS) this.streams.delete(this.streams.keys().next().value!);
      s = { written: 0, dropped: 0, errors: new Map(), queued: () => 0 };
      this.streams.set(stream, s);
    }
    return s;
  }

  families(): RecordingFamily[] {
    const all = [...this.streams];
    return [
      {
        name: "sluice_recording_written_bytes_total",
        type: "counter",
        help: "Bytes written to recording files.",
        samples: all.map(([stream, s]) => [{ stream }, s.written]),
      },
      {
        name: "sluice_recording_queue_bytes",
        type: "gauge",
        help: "Bytes waiting to be written to the stream's recording.",
        samples: all.map(([stream, s]) => [{ stream }, s.queued()]),
      },
      {
        name: "sluice_recording_dropped_fragments_total",
        type: "counter",
        help: "Fragments left out of a recording because its write queue was full (it resumes at the next keyframe, in a new file).",
        samples: all.map(([stream, s]) => [{ stream }, s.dropped]),
      },
      {
        name: "sluice_recording_errors_total",
        type: "counter",
        help: "Recordings stopped by a write error, by reason (errno code, e.g. ENOSPC).",
        samples: all.flatMap(([stream, s]) =>
          [...s.errors].map(([reason, n]): [Record<string, string>, number] => [{ stream, reason }, n]),
        ),
      },
      {
        name: "sluice_recording_deleted_files_total",
        type: "counter",
        help: "Recording files deleted by retention, by reason (age or bytes).",
        samples: [...this.deleted].map(([reason, n]) => [{ reason }, n]),
      },
    ];
  }
}
