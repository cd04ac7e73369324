/**
 * Mints a signed viewer URL token for a stream:
 *   SLUICE_VIEWER_SECRET=... bun run scripts/mint-token.ts <stream> [seconds-valid=3600]
 * Prints the token; append it as ?token=<token> to /ws/<stream> (or the page URL, which passes it on).
 */

import { mintViewerToken } from "../src/access/secrets.ts";
import { STREAM_NAME_RE } from "../src/config.ts";

const [stream, seconds = "3600"] = Bun.argv.slice(2);
const secret = process.env.SLUICE_VIEWER_SECRET ?? "";
if (!stream || !STREAM_NAME_RE.test(stream) || !/^\d+$/.test(seconds)) {
  console.error("usage: SLUICE_VIEWER_SECRET=... bun run scripts/mint-token.ts <stream> [seconds-valid=3600]");
  process.exit(2);
}
if (secret.length < 8) {
  console.error("set SLUICE_VIEWER_SECRET to the server's --viewer-secret (at least 8 characters)");
  process.exit(2);
}
console.log(await mintViewerToken(secret, stream, Date.now() / 1000 + Number(seconds)));
