import { expect, test } from "bun:test";
import { appName, parsePublishName } from "../../../src/ingest/rtmp/publish-name.ts";

test("stream name and key from the publish name, or from the app's query", () => {
  expect(parsePublishName("cam")).toEqual({ streamName: "cam", key: undefined });
  expect(parsePublishName("cam?key=abc")).toEqual({ streamName: "cam", key: "abc" });
  expect(parsePublishName("cam?a=1&key=s%20p%2Bx&key=second")).toEqual({ streamName: "cam", key: "s p+x" });
  expect(parsePublishName("cam?key=")).toEqual({ streamName: "cam", key: undefined });
  expect(parsePublishName("cam?__proto__=x&constructor=y")).toEqual({ streamName: "cam", key: undefined });
  expect(parsePublishName("cam", "live?key=fromapp")).toEqual({ streamName: "cam", key: "fromapp" });
  expect(parsePublishName("cam?key=name", "live?key=app")).toEqual({ streamName: "cam", key: "name" });
  expect(parsePublishName("")).toEqual({ streamName: "", key: undefined });
  expect(appName("live?key=k")).toBe("live");
  expect(appName("live")).toBe("live");
});
