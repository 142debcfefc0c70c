#!/usr/bin/env python3
"""One file per page for the wasm it loads first (docs/frontend.md, "Bundles").

`cargo leptos build --split` leaves a page's first load in up to ~150 files: the page's own
module and every shared chunk it needs, most of them under 2 KB. Over HTTP/1.1 a browser
fetches 6 at a time, so on a slow link each 6 files cost a round trip. This script, run by
`make build` after cargo-leptos, writes for every split point of the split manifest a bundle:
the concatenation of the modules the manifest lists for it, `bundle_<n>.<hash>.wasm` (its
brotli and gzip copies are written by scripts/compress-site.sh, which runs next), and makes

- the manifest list that bundle alone, so the server's HTML preloads one file per split point;
- `__wasm_split.<hash>.js` (the loader) take a module from a bundle the page preloaded when it
  has it, and fetch it on its own otherwise (a later navigation, a module in no bundle).

Usage: scripts/bundle-chunks.py SITE_ROOT (target/site). Run it once per build: it refuses a
loader it has already changed.
"""

import base64
import glob
import hashlib
import json
import os
import re
import sys

MARK = "// patdesk bundles (scripts/bundle-chunks.py)"

LOADER = MARK + """: a module the page's bundle holds is taken from it.
const BUNDLES = %s;
const BUNDLE_OF_SPLIT = %s;
// The bundles the server's HTML preloads, read before hydration can change the <head>.
const PAGE_BUNDLES = Array.from(
    document.querySelectorAll('link[rel="preload"][href*="/bundle_"]'),
    (link) => link.getAttribute("href").split("/").pop());
// Leptos does not always write the page's preload (its server render can finish before the
// page's lazy view registers it): then the first split point loaded takes its bundle.
let splitLoaded = false;
function inSplit(split, load) {
    const callback = wrapAsyncCb(load);
    return (index, data) => {
        if (!splitLoaded && PAGE_BUNDLES.length === 0 && BUNDLE_OF_SPLIT[split]) {
            PAGE_BUNDLES.push(BUNDLE_OF_SPLIT[split]);
        }
        splitLoaded = true;
        return callback(index, data);
    };
}
const bundleBytes = new Map();
function fromBundle(name) {
    for (const file of PAGE_BUNDLES) {
        const part = (BUNDLES[file] || []).find((p) => p[0] === name);
        if (part) {
            if (!bundleBytes.has(file)) {
                bundleBytes.set(file, fetch(new URL("./" + file, import.meta.url)).then((r) => {
                    if (!r.ok) throw new Error(file + ": " + r.status);
                    return r.arrayBuffer();
                }));
            }
            return bundleBytes.get(file).then((bytes) => new Response(
                bytes.slice(part[1], part[1] + part[2]),
                { headers: { "Content-Type": "application/wasm" } }));
        }
    }
    return null;
}
function fetchPart(name) {
    return fromBundle(name) ?? fetch(new URL("./" + name + ".wasm", import.meta.url));
}
"""

FETCH = re.compile(r'fetch\(new URL\("\./([^"]+)\.wasm", import\.meta\.url\)\)')
SPLIT_LOADER = re.compile(r"export const __wasm_split_load_(\w+) = wrapAsyncCb\(")


def content_hash(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest())[:16].decode().rstrip("=")


def main() -> None:
    pkg = os.path.join(sys.argv[1] if len(sys.argv) > 1 else "target/site", "pkg")
    (manifest_path,) = glob.glob(os.path.join(pkg, "__wasm_split_manifest.*.json"))
    (loader_path,) = [p for p in glob.glob(os.path.join(pkg, "__wasm_split.*.js"))]
    loader = open(loader_path).read()
    if MARK in loader:
        sys.exit(f"{loader_path} already loads from bundles: build again first")
    manifest = json.load(open(manifest_path))

    index, of_split = {}, {}
    for n, (split, modules) in enumerate(sorted(manifest.items())):
        data, parts = b"", []
        for module in modules:
            part = open(os.path.join(pkg, module + ".wasm"), "rb").read()
            parts.append([module, len(data), len(part)])
            data += part
        name = f"bundle_{n}.{content_hash(data)}"
        with open(os.path.join(pkg, name + ".wasm"), "wb") as f:
            f.write(data)
        index[name + ".wasm"] = parts
        of_split[split] = name + ".wasm"
        manifest[split] = [name]

    loader, replaced = FETCH.subn(lambda m: f'fetchPart("{m.group(1)}")', loader)
    loader, splits = SPLIT_LOADER.subn(
        lambda m: f'export const __wasm_split_load_{m.group(1)} = inSplit("{m.group(1)}", ', loader
    )
    if replaced == 0 or splits != len(manifest):
        sys.exit(f"{loader_path}: {replaced} module fetches and {splits} split loaders of "
                 f"{len(manifest)} found (has cargo-leptos changed its loader?)")
    first_line_end = loader.index("\n") + 1  # after `import { initSync } from …;`
    loader = loader[:first_line_end] + LOADER % (json.dumps(index), json.dumps(of_split)) + loader[first_line_end:]
    with open(loader_path, "w") as f:
        f.write(loader)
    with open(manifest_path, "w") as f:
        json.dump(manifest, f)
    print(f"bundles: {len(index)} written, {replaced} module fetches in the loader")


if __name__ == "__main__":
    main()
