#!/usr/bin/env node
// Optimizes the wasm files cargo-leptos asked wasm-opt for (the list scripts/wasm-opt-later
// wrote) as `wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int` does, with
// the same binaryen (npm's, tools/package.json), loaded once per worker thread (one a core)
// instead of once per file. The same bytes as wasm-opt's: checked file by file when this was
// written (docs/first-run.md).
//
// Usage: node scripts/optimize-wasm.mjs LIST
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";

if (isMainThread) {
  const list = process.argv[2];
  if (!list || !fs.existsSync(list)) {
    console.error(`optimize-wasm: no list at ${list}: cargo-leptos ran no wasm-opt (not a release build?)`);
    process.exit(1);
  }
  // cargo-leptos optimizes `pkg/<name>.wasm`, then gives it its content hash (`hash-files`):
  // `pkg/<name>.<hash>.wasm` by now.
  const hashed = (file) => {
    if (fs.existsSync(file)) return file;
    const dir = path.dirname(file);
    const stem = path.basename(file, ".wasm");
    const found = fs.readdirSync(dir).filter((name) => {
      const hash = name.slice(stem.length + 1, -".wasm".length);
      return name.startsWith(`${stem}.`) && name.endsWith(".wasm") && /^[\w-]{22}$/.test(hash);
    });
    if (found.length !== 1) throw new Error(`${file}: ${found.length} hashed files in ${dir}, expected one`);
    return path.join(dir, found[0]);
  };
  let files;
  try {
    files = [...new Set(fs.readFileSync(list, "utf8").split("\n").filter(Boolean))].map(hashed);
  } catch (error) {
    console.error(`optimize-wasm: ${error.message}`);
    process.exit(1);
  }
  const workers = Math.max(1, Math.min(os.availableParallelism(), files.length));
  const started = Date.now();
  const shares = Array.from({ length: workers }, (_, w) => files.filter((_, i) => i % workers === w));
  const done = shares.map(
    (share) =>
      new Promise((resolve, reject) => {
        const worker = new Worker(new URL(import.meta.url), { workerData: share });
        worker.on("message", resolve);
        worker.on("error", reject);
        worker.on("exit", (code) => code === 0 || reject(new Error(`worker exited with ${code}`)));
      }),
  );
  try {
    await Promise.all(done);
  } catch (error) {
    console.error(`optimize-wasm: ${error.message}`);
    process.exit(1);
  }
  console.log(`optimize-wasm: ${files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} else {
  // The split modules keep a names subsection binaryen does not know; it warns once a file
  // (wasm-opt did too, but cargo-leptos showed its output only when it failed).
  const printError = console.error.bind(console);
  console.error = (...args) => {
    if (!/^warning: unknown name subsection/.test(String(args[0]))) printError(...args);
  };
  const { default: binaryen } = await import(new URL("../tools/node_modules/binaryen/index.js", import.meta.url));
  // wasm-opt's -Oz: optimize level 2, shrink level 2; its writer also optimizes the stack IR,
  // which the library leaves off unless asked. No names in the output, as without -g.
  binaryen.setOptimizeLevel(2);
  binaryen.setShrinkLevel(2);
  binaryen.setDebugInfo(false);
  binaryen.setGenerateStackIR(true);
  binaryen.setOptimizeStackIR(true);
  const { BulkMemory, NontrappingFPToInt } = binaryen.Features;
  for (const file of workerData) {
    const module = binaryen.readBinary(fs.readFileSync(file));
    module.setFeatures(module.getFeatures() | BulkMemory | NontrappingFPToInt);
    module.optimize();
    fs.writeFileSync(file, module.emitBinary());
    module.dispose();
  }
  parentPort.postMessage("done");
}
