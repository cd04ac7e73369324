/** RTMP message type IDs (Adobe RTMP spec 1.0 §5.4, §7.1). */
export const MSG = {
  setChunkSize: 1,
  abort: 2,
  acknowledgement: 3,
  userControl: 4,
  windowAckSize: 5,
  setPeerBandwidth: 6,
  audio: 8,
  video: 9,
  dataAmf3: 15,
  sharedObjectAmf3: 16,
  commandAmf3: 17,
  dataAmf0: 18,
  sharedObjectAmf0: 19,
  commandAmf0: 20,
  aggregate: 22,
} as const;

/** User Control event types (RTMP spec §7.1.7). */
export const USER_CONTROL = {
  streamBegin: 0,
  streamEof: 1,
  streamDry: 2,
  setBufferLength: 3,
  streamIsRecorded: 4,
  pingRequest: 6,
  pingResponse: 7,
} as const;

/** Set Peer Bandwidth limit types (RTMP spec §5.4.5). */
export const PEER_BANDWIDTH_LIMIT = { hard: 0, soft: 1, dynamic: 2 } as const;

/** Chunk stream IDs this server sends on: protocol control (spec §5.4 mandates 2), commands, a stream's status. */
export const CSID = { protocolControl: 2, command: 3, stream: 5 } as const;

/** Handshake (RTMP spec §5.2): version byte, C1/S1/C2/S2 size. */
export const RTMP_VERSION = 3;
export const HANDSHAKE_SIZE = 1536;

/** Chunk size every chunk stream starts with (spec §5.4.1). */
export const DEFAULT_CHUNK_SIZE = 128;
/** Largest chunk size accepted from a peer: the spec allows 2^31 - 1, but no message is longer than 2^24 - 1. */
export const MAX_CHUNK_SIZE = 0xffffff;
/** Timestamp field value that means "an extended 32-bit timestamp follows" (spec §5.3.1.3). */
export const EXTENDED_TIMESTAMP = 0xffffff;
