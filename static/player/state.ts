/** The player's coarse state, and how the overlay words it. */

/**
 * - `connecting`: opening (or re-opening after a close) the WebSocket, or loading an HLS playlist.
 * - `waiting`: connected; the stream has no publisher yet.
 * - `playing`: a stream is live and being played.
 * - `ended`: the publisher left; the socket stays open for its return (a recording: its end was played).
 * - `unsupported`: this browser cannot play the stream (codec or no MSE).
 * - `error`: the server reported an error, refused the connection (1008), or playback failed repeatedly.
 */
export type PlayerState = "connecting" | "waiting" | "playing" | "ended" | "unsupported" | "error";

/** Detail of the `statechange` event. */
export interface StateChangeDetail {
  state: PlayerState;
  /** The overlay text (e.g. the unsupported MIME type or the error message). */
  message: string;
}

/** Overlay text for a state; `detail` is the MIME type, error message or reconnect note. */
export function stateText(state: PlayerState, detail: string): string {
  switch (state) {
    case "connecting":
      return detail ? `connecting… (${detail})` : "connecting…";
    case "waiting":
      return "waiting for stream";
    case "playing":
      return "playing";
    case "ended":
      return detail || "stream ended — waiting for it to return";
    case "unsupported":
      return detail.includes("/") ? `unsupported codec: ${detail}` : `unsupported: ${detail}`;
    case "error":
      return `error: ${detail}`;
  }
}
