import { presentedKey } from "../access/secrets.ts";
import type { PublisherAdmission, RefusalReason } from "./admission.ts";

/** The HTTP answer to each refusal. */
const REFUSAL_STATUS: ReadonlyMap<RefusalReason, number> = new Map<RefusalReason, number>([
  ["invalid-name", 400],
  ["missing-key", 401],
  ["bad-key", 403],
  ["address-not-allowed", 403],
  ["too-many-from-address", 503],
  ["too-many-publishers", 503],
  ["stream-busy", 409],
  ["stream-busy-in-cluster", 409],
  ["admission-buffer-full", 503],
]);

/** Longest stretch of body chunks handled without letting the event loop run. */
const YIELD_AFTER_MS = 10;

/** Who sent an HTTP ingest request. */
export interface HttpPublisher {
  /** Client address (behind a trusted proxy: the forwarded client) and `address:port` for logs. */
  address: string;
  remote: string;
}

/**
 * HTTP ingest (`PUT`/`POST /ingest/:name`, typically a chunked body from `ffmpeg -method PUT`): admitted
 * by `PublisherAdmission` with the key from `?key=` or `Authorization: Bearer`, then the body is fed to
 * the session chunk by chunk as it arrives. While admission waits (the cluster lease) the body is simply
 * not read. Answers 204 when the body ends, 400 for bad bytes, 401/403/409/503 for refusals, 408 when the
 * idle watchdog closed it.
 */
export async function ingestHttp(req: Request, name: string, who: HttpPublisher, admission: PublisherAdmission): Promise<Response> {
  const key = presentedKey(new URL(req.url), req.headers.get("authorization"));
  const reader = req.body?.getReader();
  const cancel = () => void reader?.cancel().catch(() => {});
  const session = await admission.admit({ stream: name, address: who.address, remote: who.remote, key, keyed: true }, cancel);
  if ("refused" in session) {
    cancel();
    const status = REFUSAL_STATUS.get(session.refused) ?? 503;
    return text(
      status,
      status === 400 ? session.message : `refused: ${session.message}`,
      status === 401 ? { "www-authenticate": "Bearer" } : {},
    );
  }
  if (!reader) {
    session.close({ reason: "no-body", message: "a PUT/POST body with the stream is required" });
    return text(400, "a PUT/POST body with the stream is required");
  }
  let sliceStart = performance.now();
  try {
    for (;;) {
      // Bun hands over every queued chunk of a chunked body in microtasks: without a turn of the event
      // loop now and then, a publisher sending tiny chunks would hold the loop for as long as it sends (issue 10).
      if (performance.now() - sliceStart > YIELD_AFTER_MS) {
        await new Promise((r) => setTimeout(r, 0));
        sliceStart = performance.now();
      }
      const next = await reader.read();
      if (next.done) break;
      if (!session.push(next.value)) {
        cancel();
        return text(400, `${session.error?.reason}: ${session.error?.message}`);
      }
    }
  } catch {
    // The publisher went away mid-body: an ordinary disconnect (a partial box is logged as truncated).
    session.close();
    return text(400, "publisher disconnected");
  }
  if (session.error?.reason === "idle-timeout") return text(408, session.error.message);
  session.close();
  return session.error ? text(400, `${session.error.reason}: ${session.error.message}`) : new Response(null, { status: 204 });
}

function text(status: number, body: string, headers: Record<string, string> = {}): Response {
  return new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}
