import { readFileSync } from "node:fs";
import { join } from "node:path";

export const FIXTURES_DIR = join(import.meta.dir, "..", "fixtures");

export function fixturePath(name: string): string {
  return join(FIXTURES_DIR, name);
}

export function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fixturePath(name)));
}
