import type { PublisherAdmission, Refusal } from "./admission.ts";
import type { PublisherSession } from "./publisher-session.ts";

export interface UdpIngestOptions {
  hostname: string;
  port: number;
  /** The stream this port feeds. */
  stream: string;
}

export interface UdpIngest {
  port: number;
  /** Stops listening and ends the publisher's session. */
  stop(): void;
}

/** Cap of the datagrams held while a source waits for its admission (in cluster mode, a Redis round trip). */
const ADMISSION_BUFFER_BYTES = 4 * 1024 * 1024;

/** The source currently publishing on a port. */
interface Source {
  /** `address:port` of the datagrams' sender. */
  remote: string;
  session?: PublisherSession;
  /** Datagrams that arrived while admission was pending (copies), and their size. */
  pending?: Uint8Array[];
  pendingBytes: number;
  ended: boolean;
}

/**
 * UDP MPEG-TS ingest (`Bun.udpSocket`, e.g. 7 × 188-byte packets per datagram from ffmpeg, cameras,
 * `srt-live-transmit`): the port feeds `options.stream`. UDP has no connection, so the first sender
 * becomes the publisher once `PublisherAdmission` admits it (no key: the address allowlist decides),
 * and datagrams from any other sender are ignored (counted, logged once per sender switch attempt)
 * until that session ends: by the idle timeout (`--publisher-idle-seconds`), a takeover, a parser
 * error or shutdown. Datagrams go to the session as they arrive; loss shows up as MPEG-TS
 * continuity-counter gaps, which the demuxer counts and recovers from at the next keyframe.
 */
export async function listenUdpIngest(
  options: UdpIngestOptions,
  admission: PublisherAdmission,
  onIgnored: (remote: string) => void,
): Promise<UdpIngest> {
  let source: Source | undefined;
  let ignoredFrom: string | undefined;
  const endSource = (s: Source) => {
    s.ended = true;
    s.pending = undefined;
    if (source === s) source = undefined;
  };
  const admit = (remote: string, address: string) => {
    const s: Source = { remote, pending: [], pendingBytes: 0, ended: false };
    source = s;
    void admission
      .admit({ stream: options.stream, address, remote, keyed: false, silenceEnds: true }, () => endSource(s))
      .then((result: PublisherSession | Refusal) => {
        const pending = s.pending ?? [];
        s.pending = undefined;
        if ("refused" in result) return endSource(s);
        if (s.ended) return result.close();
        if (s.pendingBytes > ADMISSION_BUFFER_BYTES) {
          result.close({
            reason: "admission-buffer-full",
            message: `more than ${ADMISSION_BUFFER_BYTES} bytes arrived before the publisher was admitted`,
          });
          return endSource(s);
        }
        s.session = result;
        for (const chunk of pending) if (!result.push(chunk)) return endSource(s);
      });
  };
  const socket = await Bun.udpSocket({
    hostname: options.hostname,
    port: options.port,
    binaryType: "uint8array",
    socket: {
      data(_socket, data, port, address) {
        const remote = `${address}:${port}`;
        if (!source) admit(remote, address);
        const s = source!;
        if (s.remote !== remote) {
          if (ignoredFrom !== remote) onIgnored(remote);
          ignoredFrom = remote;
          return;
        }
        if (s.pending) {
          // Admission pending: hold the datagrams (copied: the receive buffer is reused), capped.
          s.pendingBytes += data.byteLength;
          if (s.pendingBytes <= ADMISSION_BUFFER_BYTES) s.pending.push(data.slice());
          else s.pending.length = 0;
          return;
        }
        if (s.session && !s.session.push(data)) endSource(s);
        if (s.session?.closed) endSource(s);
      },
    },
  });
  return {
    port: socket.port,
    stop() {
      socket.close();
      if (source?.session) source.session.close();
      if (source) endSource(source);
    },
  };
}
