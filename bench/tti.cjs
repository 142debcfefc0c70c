// Time to interactive of every page on a slow connection (docs/frontend.md), for `make bench`.
//
// Usage: node bench/tti.cjs BASE_URL COOKIE PAGES_JSON [LOADS] [VIA]
//   COOKIE      "patdesk_session=…" of a signed-in instance admin, for the private pages
//   PAGES_JSON  [{"name": "tokens", "path": "/", "signedIn": true}, …]
//   VIA         what serves BASE_URL, written on each line ("direct" by default)
//
// Each load is a new browser context (an empty cache: a first visit) in Debian's Chromium,
// throttled through the DevTools protocol as Lighthouse's mobile profile is: 150 ms round trip,
// 1.6 Mbit/s down, 750 kbit/s up, the CPU slowed 4×. It measures, from the navigation's start:
// - content: the first contentful paint (the server's HTML drawn);
// - interactive: `<body data-hydrated>` set, i.e. the page's wasm has loaded and hydrated it
//   (frontend::hydrate sets it), so every button on it answers;
// - bytes: what the page transferred in all (compressed, as sent).
// It prints one JSON line per page with the median of LOADS loads (default 3).
const path = require("node:path");
const { chromium } = require(path.join(__dirname, "../end2end/node_modules/@playwright/test"));

const [base, cookie, pagesJson, loadsArg, via] = process.argv.slice(2);
const pages = JSON.parse(pagesJson);
const loads = Number(loadsArg ?? 3);
const [cookieName, cookieValue] = cookie.split(/=(.*)/s);

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

async function load(browser, page) {
  // A TLS proxy in front (bench/tti.sh) has a self-signed certificate.
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  if (page.signedIn) {
    await context.addCookies([{ name: cookieName, value: cookieValue, url: base }]);
  }
  const tab = await context.newPage();
  // The time the wasm marks the page hydrated, on the page's own clock (0 = navigation start).
  await tab.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.hydrated === "true") {
        window.__hydratedAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { attributes: true, subtree: true, attributeFilter: ["data-hydrated"] });
  });
  const errors = [];
  tab.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  tab.on("pageerror", (e) => errors.push(e.message));
  const cdp = await context.newCDPSession(tab);
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 150,
    downloadThroughput: (1.6 * 1024 * 1024) / 8,
    uploadThroughput: (750 * 1024) / 8,
  });
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  let bytes = 0;
  let requests = 0;
  let protocol = null;
  cdp.on("Network.loadingFinished", (e) => {
    bytes += e.encodedDataLength;
    requests += 1;
  });
  cdp.on("Network.responseReceived", (e) => {
    if (e.type === "Document") protocol = e.response.protocol;
  });
  const response = await tab.goto(base + page.path, { waitUntil: "load", timeout: 120_000 });
  if (!response || response.status() >= 400) {
    throw new Error(`${page.path}: HTTP ${response && response.status()}`);
  }
  await tab.waitForFunction(() => window.__hydratedAt !== undefined, null, { timeout: 120_000 });
  const times = await tab.evaluate(() => ({
    interactive: window.__hydratedAt,
    content: performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
    path: location.pathname,
  }));
  if (times.path !== new URL(base + page.path).pathname) {
    throw new Error(`${page.path}: ended on ${times.path} (signed out?)`);
  }
  await context.close();
  return { ...times, bytes, requests, protocol, errors };
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  try {
    for (const page of pages) {
      const runs = [];
      for (let i = 0; i < loads; i++) runs.push(await load(browser, page));
      console.log(JSON.stringify({
        page: page.name,
        path: page.path,
        via: via ?? "direct",
        protocol: runs[0].protocol,
        requests: median(runs.map((r) => r.requests)),
        interactive_ms: Math.round(median(runs.map((r) => r.interactive))),
        interactive_runs_ms: runs.map((r) => Math.round(r.interactive)),
        content_ms: Math.round(median(runs.map((r) => r.content ?? NaN))),
        transferred_bytes: median(runs.map((r) => r.bytes)),
        console_errors: [...new Set(runs.flatMap((r) => r.errors))],
      }));
    }
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
