import { admitPublisher, type SessionDeps } from "./publisher-session.ts";

/**
 * HTTP ingest: the request body (typically chunked, e.g. `ffmpeg -method PUT ... http://host/ingest/cam2`)
 * is one publisher, fed to the same session as TCP ingest chunk by chunk as it arrives. Resolves when
 * the body ends (204), the stream is taken (409), the bytes are bad (400) or it idles (408).
 * Access checks happen before this is called.
 */
export async function ingestHttpBody(req: Request, name: string, remote: string, deps: SessionDeps, idleSeconds: number): Promise<Response> {
  if (!req.body) return text(400, "a PUT/POST body with the stream is required");
  const reader = req.body.getReader();
  // In cluster mode this waits for the cluster lease; the body is not read meanwhile.
  const session = await admitPublisher(name, remote, deps, () => void reader.cancel().catch(() => {}));
  if ("refused" in session) {
    void reader.cancel().catch(() => {});
    return text(session.refused === "too-many-publishers" ? 503 : 409, `refused: ${session.message}`);
  }
  const idleMs = idleSeconds * 1000;
  try {
    for (;;) {
      const next = await readWithin(reader, idleMs);
      if (next === "idle") {
        session.close({ reason: "idle-timeout", message: `no data for ${idleSeconds} s` });
        void reader.cancel().catch(() => {});
        return text(408, `no data for ${idleSeconds} s`);
      }
      if (next.done) break;
      if (!session.push(next.value)) {
        void reader.cancel().catch(() => {});
        return text(400, `${session.error?.reason}: ${session.error?.message}`);
      }
    }
  } catch {
    // The publisher went away mid-body: an ordinary disconnect (a partial box is logged as truncated).
    session.close();
    return text(400, "publisher disconnected");
  }
  session.close();
  return session.error ? text(400, `${session.error.reason}: ${session.error.message}`) : new Response(null, { status: 204 });
}

/** The next chunk, or "idle" when none comes within `ms`. */
function readWithin(reader: ReadableStreamDefaultReader<Uint8Array>, ms: number): Promise<Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>> | "idle"> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve("idle"), ms);
    reader.read().then(
      (r) => {
        clearTimeout(timer);
        resolve(r);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

function text(status: number, body: string): Response {
  return new Response(`${body}\n`, { status, headers: { "content-type": "text/plain; charset=utf-8" } });
}
