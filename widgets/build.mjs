// Bundles the widgets into railtracks_nb/static (committed, so `pip install`
// needs no Node.js). Deterministic: same sources + same lockfile => same bytes
// (no timestamps, no absolute paths, no sourcemaps; CI diffs the output).
import * as esbuild from "esbuild";
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, "../railtracks_nb/static");
await mkdir(out, { recursive: true });

const common = {
  bundle: true,
  minify: process.env.RT_NO_MINIFY ? false : true,
  target: ["es2020"],
  legalComments: "none",
  logLevel: "warning",
  charset: "utf8",
  absWorkingDir: here,
};

// The anywidget module (ESM with a default export).
await esbuild.build({
  ...common,
  entryPoints: ["src/widget.ts"],
  format: "esm",
  outfile: resolve(out, "widget.js"),
});
// The standalone host for exported .html pages (a classic script: works from file://).
await esbuild.build({
  ...common,
  entryPoints: ["src/standalone.ts"],
  format: "iife",
  globalName: "RailtracksWidgets",
  outfile: resolve(out, "standalone.js"),
});
await copyFile(resolve(here, "src/style.css"), resolve(out, "widget.css"));
console.log(`built widget.js, standalone.js, widget.css into ${out}`);
