import { ParseError } from "../../container/errors.ts";
import { type AmfValue, amfGet, amfObject } from "../../container/flv/amf0.ts";
import type { RtmpMessage } from "./chunk-reader.ts";
import type { OutgoingMessage } from "./chunk-writer.ts";
import { USER_CONTROL } from "./constants.ts";
import { commandMessage, decodeCommand, userControlMessage } from "./messages.ts";
import { appName, parsePublishName } from "./publish-name.ts";

/** What a client asks to publish to. */
export interface RtmpPublishRequest {
  /** The connect command's application, without any query (`live`). */
  app: string;
  /** The publish command's name without its query (`cam` of `cam?key=K`). */
  streamName: string;
  /** `key` of the name's query (or, failing that, of the app's query). */
  key: string | undefined;
  tcUrl?: string;
}

/** onStatus codes a refusal may carry (RTMP spec §7.2.2.6 and FMS practice). */
export type PublishRefusalCode =
  | "NetStream.Publish.BadName"
  | "NetStream.Publish.Unauthorized"
  | "NetStream.Publish.Denied"
  | "NetStream.Publish.Failed";

/** The connection side the command layer talks to. */
export interface NetSessionHost {
  send(m: OutgoingMessage): void;
  sendConnectPreamble(): void;
  publishRequested(request: RtmpPublishRequest): void;
  /** The publish (accepted, or still awaiting a decision when `wasPublishing` is false) ended. */
  unpublished(wasPublishing: boolean): void;
}

/** Most NetStreams one connection may create (a publisher needs one). */
const MAX_STREAMS = 16;
/** FourCC capability flags of E-RTMP v2 (FourCcInfoMask): this server forwards. */
const CAN_FORWARD = 0x04;

export type NetSessionState = "connect" | "connected" | "deciding" | "publishing";

/**
 * The NetConnection/NetStream commands of a publishing client (RTMP spec §7.2): connect, releaseStream,
 * FCPublish, createStream, publish, FCUnpublish, deleteStream, closeStream. Other commands are ignored.
 */
export class NetSession {
  state: NetSessionState = "connect";
  /** The stream being published (or awaiting a decision) on; 0 when none. */
  publishStreamId = 0;
  private readonly host: NetSessionHost;
  private readonly streams = new Set<number>();
  private nextStreamId = 1;
  private app = "";
  private tcUrl: string | undefined;
  private streamName = "";

  constructor(host: NetSessionHost) {
    this.host = host;
  }

  command(msg: RtmpMessage): void {
    const { name, transactionId: txn, args } = decodeCommand(msg);
    if (this.state === "connect" && name !== "connect")
      throw new ParseError("malformed", `RTMP command "${name.slice(0, 64)}" before connect`);
    switch (name) {
      case "connect":
        return this.connect(txn, args[0]);
      case "releaseStream":
      case "FCPublish":
        // No reply is needed (ffmpeg and GStreamer do not wait); an empty _result closes their transaction.
        if (txn > 0) this.host.send(commandMessage(0, "_result", txn, null, undefined));
        return;
      case "createStream":
        return this.createStream(txn);
      case "publish":
        return this.publish(msg.streamId, args[1]);
      case "FCUnpublish":
        return this.unpublish();
      case "deleteStream":
        if (args[1] === this.publishStreamId) this.unpublish();
        if (typeof args[1] === "number") this.streams.delete(args[1]);
        return;
      case "closeStream":
        if (msg.streamId === this.publishStreamId) this.unpublish();
        return;
      default:
        return;
    }
  }

  /** The host accepted the pending publish. */
  accepted(): void {
    this.state = "publishing";
    this.host.send(userControlMessage(USER_CONTROL.streamBegin, this.publishStreamId));
    this.status("status", "NetStream.Publish.Start", `${this.streamName} is now published.`);
  }

  /** The host refused the pending publish: an error-level onStatus (ffmpeg prints its description). */
  refused(code: PublishRefusalCode, description: string): void {
    this.status("error", code, description);
    this.state = "connected";
    this.publishStreamId = 0;
  }

  private connect(txn: number, commandObject: AmfValue): void {
    if (this.state !== "connect") throw new ParseError("malformed", "a second RTMP connect on one connection");
    const app = amfGet(commandObject, "app");
    const tcUrl = amfGet(commandObject, "tcUrl");
    this.app = typeof app === "string" ? app : "";
    this.tcUrl = typeof tcUrl === "string" ? tcUrl : undefined;
    this.state = "connected";
    this.host.sendConnectPreamble();
    const fourCcMap = (codecs: string[]) => amfObject(Object.fromEntries(codecs.map((c) => [c, CAN_FORWARD])));
    const properties = amfObject({
      fmsVer: "FMS/3,5,7,7009",
      capabilities: 31,
      mode: 1,
      // E-RTMP v2 "Enhancing NetConnection connect Command": the server states what it accepts.
      videoFourCcInfoMap: fourCcMap(["avc1", "hvc1", "av01", "vp09"]),
      audioFourCcInfoMap: fourCcMap(["mp4a", "Opus"]),
      capsEx: 0,
    });
    // objectEncoding 0: this server speaks AMF0 only, whatever the client offered.
    const info = amfObject({
      level: "status",
      code: "NetConnection.Connect.Success",
      description: "Connection succeeded.",
      objectEncoding: 0,
    });
    this.host.send(commandMessage(0, "_result", txn, properties, info));
  }

  private createStream(txn: number): void {
    if (this.streams.size >= MAX_STREAMS) throw new ParseError("too-large", `more than ${MAX_STREAMS} RTMP streams on one connection`);
    const id = this.nextStreamId++;
    this.streams.add(id);
    this.host.send(commandMessage(0, "_result", txn, null, id));
  }

  private publish(streamId: number, name: AmfValue): void {
    if (!this.streams.has(streamId)) throw new ParseError("malformed", `publish on stream ${streamId}, which createStream did not make`);
    if (this.state !== "connected") throw new ParseError("malformed", "a second publish on one RTMP connection");
    const { streamName, key } = parsePublishName(typeof name === "string" ? name : "", this.app);
    this.state = "deciding";
    this.publishStreamId = streamId;
    this.streamName = streamName;
    this.host.publishRequested({ app: appName(this.app), streamName, key, ...(this.tcUrl !== undefined ? { tcUrl: this.tcUrl } : {}) });
  }

  /** FCUnpublish, deleteStream and closeStream all end the publish; only the first of them counts. */
  private unpublish(): void {
    if (this.state !== "publishing" && this.state !== "deciding") return;
    const wasPublishing = this.state === "publishing";
    this.state = "connected";
    this.host.unpublished(wasPublishing);
    this.publishStreamId = 0;
  }

  private status(level: "status" | "error", code: string, description: string): void {
    const info = amfObject({ level, code, description, details: this.streamName });
    this.host.send(commandMessage(this.publishStreamId, "onStatus", 0, null, info));
  }
}
