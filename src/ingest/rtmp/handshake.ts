import type { ByteQueue } from "../../container/byte-queue.ts";
import { ParseError } from "../../container/errors.ts";
import { HANDSHAKE_SIZE, RTMP_VERSION } from "./constants.ts";

/**
 * Server side of the RTMP handshake (RTMP spec §5.2): C0+C1 → S0+S1+S2, then C2.
 *
 * This is the "simple" handshake: S1 carries a zero version field (bytes 4–7), and S2 echoes C1. Clients
 * that open with the digest-based ("complex", Flash Player 9) C1, such as ffmpeg and librtmp, only check
 * the server's digest when that field is not zero (and ffmpeg only when playing), so they go on with
 * the simple handshake; C1's content is never checked here, and C2 is read and ignored.
 */
export class ServerHandshake {
  private state: "c0c1" | "c2" | "done" = "c0c1";

  get done(): boolean {
    return this.state === "done";
  }

  /**
   * Consumes what it can of the handshake from `q`; returns the bytes to send (S0+S1+S2 once C0+C1 are
   * in), else undefined. `uptimeMs` goes into S1's time field. Throws `ParseError` for a C0 that is not
   * RTMP version 3 (`http-request` when it looks like HTTP).
   */
  advance(q: ByteQueue, uptimeMs: number): Uint8Array | undefined {
    if (this.state === "c0c1") {
      if (q.length < 1) return undefined;
      const version = q.byteAt(0);
      if (version !== RTMP_VERSION) {
        // 'G', 'P', 'H', 'O', 'D' (GET, POST, HEAD, OPTIONS, DELETE...) → someone speaks HTTP.
        if (version >= 0x41 && version <= 0x5a) throw new ParseError("http-request", "an HTTP request on the RTMP port");
        throw new ParseError("malformed", `RTMP handshake version ${version} (only 3, unencrypted RTMP, is spoken here)`);
      }
      if (q.length < 1 + HANDSHAKE_SIZE) return undefined;
      q.skip(1);
      const c1 = q.take(HANDSHAKE_SIZE);
      const out = new Uint8Array(1 + 2 * HANDSHAKE_SIZE);
      out[0] = RTMP_VERSION;
      const s1 = out.subarray(1, 1 + HANDSHAKE_SIZE);
      new DataView(s1.buffer, s1.byteOffset, 8).setUint32(0, uptimeMs >>> 0); // time; bytes 4–7 stay zero
      // §5.2.3: 1528 random bytes. getRandomValues fills at most 65536 bytes per call.
      crypto.getRandomValues(s1.subarray(8));
      out.set(c1, 1 + HANDSHAKE_SIZE); // S2 = C1 echoed (§5.2.4)
      this.state = "c2";
      return out;
    }
    if (this.state === "c2" && q.length >= HANDSHAKE_SIZE) {
      q.skip(HANDSHAKE_SIZE);
      this.state = "done";
    }
    return undefined;
  }
}
