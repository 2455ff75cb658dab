// Runs the front end's unit tests: each test/*.test.ts bundled by esbuild (as
// the widget itself is) into .test-build/, then node's built-in test runner.
import * as esbuild from "esbuild";
import { spawnSync } from "node:child_process";
import { readdir, rm } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../.test-build");
await rm(out, { recursive: true, force: true });
const tests = (await readdir(here)).filter((f) => f.endsWith(".test.ts"));
await esbuild.build({
  entryPoints: tests.map((f) => resolve(here, f)),
  outdir: out,
  outExtension: { ".js": ".mjs" },
  bundle: true,
  format: "esm",
  platform: "node",
  target: ["node18"],
  logLevel: "warning",
  absWorkingDir: resolve(here, ".."),
});
const files = tests.map((f) => resolve(out, f.replace(/\.ts$/, ".mjs")));
const run = spawnSync(process.execPath, ["--test", ...files], { stdio: "inherit" });
process.exit(run.status ?? 1);
