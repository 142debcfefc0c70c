import { execFileSync } from "node:child_process";
import * as path from "node:path";
import { expect, Page, test } from "@playwright/test";

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
  await expect(page.getByText(`Signed in as ${username}`)).toBeVisible();
}

/** Token values created during the run, for the leak check in leaks.teardown.ts. */
export function rememberSecret(value: string) {
  const fs = require("node:fs") as typeof import("node:fs");
  fs.appendFileSync(path.join(root, ".tmp/secrets.txt"), value + "\n");
}
