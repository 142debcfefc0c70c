import { execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import * as path from "node:path";
import { expect, Page, test } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";

export const PASSWORD = "correct horse battery staple";
const root = path.resolve(__dirname, "..");

/** A username no other test uses, so tests can share the server's database. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1000)}`;
}

/** The database of the server the running test's project uses (see start-server.sh). */
function databaseUrl(): string {
  const postgres = process.env.PATDESK_TEST_POSTGRES_URL;
  if (postgres && test.info().project.name === "sso on postgres") {
    return `${postgres.replace(/\/[^/]*$/, "")}/patdesk_e2e`;
  }
  return `sqlite://${path.join(root, ".tmp/patdesk.db")}`;
}

/** Runs the real `patdesk` CLI against the server's database. */
export function cli(args: string[], input?: string): string {
  return execFileSync(path.join(root, "../target/release/patdesk"), args, {
    input: input ?? "",
    env: {
      PATH: process.env.PATH ?? "",
      DATABASE_URL: databaseUrl(),
    },
  }).toString();
}

/** Waits until the wasm has taken over the page. */
export async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

/** Opens the token page's New token form with its "Generate new token" button (the form's code
 * is fetched when it first opens: docs/frontend.md). */
export async function openNewTokenForm(page: Page) {
  await page.getByRole("link", { name: "Generate new token" }).click();
  await expect(page.getByLabel("Description")).toBeFocused();
}

/** axe-core finds nothing on the page. `wcagSerious`: only serious and critical findings against
 * WCAG 2 A and AA (every page's bar, layout.spec.ts); without it, every finding of every rule. */
export async function axeClean(page: Page, wcagSerious = false) {
  const builder = new AxeBuilder({ page });
  if (wcagSerious) builder.withTags(["wcag2a", "wcag2aa"]);
  const results = await builder.analyze();
  const found = results.violations.filter((v) => !wcagSerious || v.impact === "serious" || v.impact === "critical");
  expect(
    found.map((v) => `${v.id}: ${v.help} (${v.nodes.length}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")})`),
    `axe on ${page.url()}`,
  ).toEqual([]);
}

export async function screenshot(page: Page, name: string) {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: true });
}

export async function signUp(page: Page, username: string) {
  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  // In the header's menu, which a phone shows only when opened (openMainMenu).
  await expect(page.getByText(`Signed in as ${username}`)).toBeAttached();
}

/** Opens the header's menu (the main navigation, the account, Sign out) where it is folded
 * behind "Menu" (under 640 px); on a wider screen they are in the bar and this does nothing. */
export async function openMainMenu(page: Page) {
  const menu = page.getByTestId("site-menu-button");
  if (await menu.isVisible()) {
    if ((await menu.locator("xpath=..").getAttribute("open")) === null) await menu.click();
    await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
  }
}

/** Token values created during the run, for the leak check in leaks.teardown.ts. */
export function rememberSecret(value: string) {
  const fs = require("node:fs") as typeof import("node:fs");
  fs.appendFileSync(path.join(root, ".tmp/secrets.txt"), value + "\n");
}

/** A token made with the CLI (`patdesk token create … --json`): its id and value, the value
 * remembered for the leak check. `flags` go before `--json` (`--write`, `--expires-in-days`…). */
export function createToken(user: string, team: string, description: string, ...flags: string[]) {
  const created: { id: string; token: string } = JSON.parse(
    cli(["token", "create", "--user", user, "--team", team, "--description", description, ...flags, "--json"]),
  );
  rememberSecret(created.token);
  return created;
}

/** The code an authenticator app shows for `secret` (base32), `stepsAhead` 30-second steps from
 * now (RFC 6238: HMAC-SHA-1, 6 digits). */
export function totp(secret: string, stepsAhead = 0): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g)!.map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30) + stepsAhead));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const value = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return value.toString().padStart(6, "0");
}

/** Makes every session of `username` look signed in long ago, for sudo mode (time passing: no
 * interface offers it). On the SQLite server's database, with Python's sqlite3. */
export function ageSessions(username: string) {
  execFileSync("python3", [
    "-c",
    "import sqlite3, sys\n" +
      "db = sqlite3.connect(sys.argv[1])\n" +
      "db.execute(\"UPDATE sessions SET authenticated_at = '2020-01-01 00:00:00+00:00' WHERE user_id = (SELECT id FROM users WHERE username = ?)\", (sys.argv[2],))\n" +
      "db.commit()",
    path.join(root, ".tmp/patdesk.db"),
    username,
  ]);
}

/** Makes the token `id` look created long ago (time passing: no interface offers it), so that
 * its expiry within 7 days warns (a token living 7 days or less never does). On the SQLite
 * server's database, with Python's sqlite3. */
export function ageToken(id: string) {
  execFileSync("python3", [
    "-c",
    "import sqlite3, sys\n" +
      "db = sqlite3.connect(sys.argv[1])\n" +
      "db.execute(\"UPDATE tokens SET created_at = '2020-01-01 00:00:00+00:00' WHERE id = ?\", (sys.argv[2],))\n" +
      "db.commit()",
    path.join(root, ".tmp/patdesk.db"),
    id,
  ]);
}
