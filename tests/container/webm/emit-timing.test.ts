import { expect, test } from "bun:test";
import { DEFAULT_PARSER_OPTIONS } from "../../../src/container/types.ts";
import { createWebmParser } from "../../../src/container/webm/parser.ts";
import { fixture } from "../../helpers/fixtures.ts";

test("a known-size Cluster is emitted by the push that delivers its last byte, not later", () => {
  const file = fixture("vp8-opus.webm");
  const [init, ...clusters] = createWebmParser(DEFAULT_PARSER_OPTIONS).push(file);
  const p = createWebmParser(DEFAULT_PARSER_OPTIONS);
  let pos = 0;
  let end = init!.bytes.byteLength;
  for (const [i, cluster] of clusters.entries()) {
    end += cluster.bytes.byteLength;
    // Everything but the Cluster's last byte: nothing but the init (which ends where the first
    // Cluster's header is read); the last byte alone emits the Cluster.
    expect(p.push(file.subarray(pos, end - 1)).map((e) => e.type)).toEqual(i === 0 ? ["init"] : []);
    const out = p.push(file.subarray(end - 1, end));
    expect(out).toHaveLength(1);
    expect(out[0]!.bytes).toEqual(cluster.bytes);
    expect(p.buffered).toBe(0);
    pos = end;
  }
  expect(pos).toBe(file.byteLength);
});
