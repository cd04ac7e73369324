import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OPTIONS } from "../src/config.ts";

const readme = readFileSync(join(import.meta.dir, "..", "README.md"), "utf8");

test("the README documents every option with its environment variable", () => {
  for (const o of OPTIONS) {
    expect(readme).toContain(`\`${o.flag}\``);
    expect(readme).toContain(`\`${o.env}\``);
  }
});

test("the README keeps the run and test commands and the entry point", () => {
  expect(readme).toContain("npm install && npm start");
  expect(readme).toContain("scripts/setup.sh && npm test");
  expect(readme).toContain("src/main.ts");
});
