import { test, expect, Page } from "./fixtures";
import { PASSWORD, cli, hydrated, openNewTokenForm, rememberSecret, screenshot, signUp, uniqueName } from "./helpers";

const TOKEN_SHAPE = /^pdk_[0-9A-Za-z]{38}$/;

async function shownToken(page: Page): Promise<string> {
  const panel = page.getByTestId("new-token-panel");
  await expect(panel).toBeVisible();
  await expect(panel).toContainText("you will not be able to see it again");
  const value = (await page.locator("#new-token-value").textContent())!.trim();
  expect(value).toMatch(TOKEN_SHAPE);
  rememberSecret(value);
  return value;
}

test("create, copy, list, regenerate and delete a token", async ({ page, context, baseURL }) => {
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: baseURL });
  const user = uniqueName("tok");
  const team = uniqueName("team");
  await signUp(page, user);
  cli(["team", "add", team, "--owner", user, "--name", "Platform"]);

  await page.goto("/");
  await hydrated(page);
  await expect(page.getByTestId("no-tokens")).toBeVisible();
  await openNewTokenForm(page);
  await page.getByLabel("Description").fill("nightly backup job");
  await page.getByLabel("Team", { exact: true }).selectOption(team);
  await page.getByLabel("Expiration").selectOption("90");
  await page.getByLabel("Enable write access").check();
  await screenshot(page, "token-form");
  await page.getByRole("button", { name: "Generate token" }).click();

  const value = await shownToken(page);
  await screenshot(page, "token-once-only");
  await page.getByRole("button", { name: "Copy", exact: true }).click();
  await expect(page.getByRole("button", { name: "Copied" })).toBeVisible();
  const clipboard = await page.evaluate(() => navigator.clipboard.readText());
  expect(clipboard).toBe(value);

  // The table shows the new row: partial value, scope, "Never" used.
  const row = page.locator("tr", { hasText: "nightly backup job" });
  await expect(row.locator(".partial")).toHaveText(`pdk_…${value.slice(-4)}`);
  await expect(row).toContainText("read/write");
  await expect(row).toContainText(team);
  await expect(row).toContainText("Never");
  await screenshot(page, "token-table");

  // Reloading loses the value for good: not on the page, not in its HTML.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("new-token-panel")).toHaveCount(0);
  expect(await page.content()).not.toContain(value);
  const html = await (await page.request.get("/")).text();
  expect(html).toContain("nightly backup job");
  expect(html).not.toContain(value);

  // Using the token fills "last used" and the IP (written in batches, at most seconds later).
  const me = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${value}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).user.username).toBe(user);
  await expect(async () => {
    await page.reload();
    await expect(row).toContainText("just now", { timeout: 1000 });
  }).toPass({ timeout: 15_000, intervals: [2000] });
  await expect(row).toContainText("127.0.0.1");
  await hydrated(page);
  await screenshot(page, "token-table-used");

  // Regenerate: a confirmation naming the token, then a different value.
  await row.getByRole("button", { name: "Regenerate nightly backup job" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("Regenerate “nightly backup job”?");
  await screenshot(page, "token-regenerate-confirm");
  await dialog.getByRole("button", { name: "Regenerate token" }).click();
  const regenerated = await shownToken(page);
  expect(regenerated).not.toBe(value);
  await expect(row.locator(".partial")).toHaveText(`pdk_…${regenerated.slice(-4)}`);

  // Delete: a confirmation naming the token, then the row is gone.
  await row.getByRole("button", { name: "Delete nightly backup job" }).click();
  await expect(dialog).toContainText("Delete “nightly backup job”?");
  // Cancel has the focus (deleting cannot be undone); Escape closes the dialog, as does Cancel.
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await row.getByRole("button", { name: "Delete nightly backup job" }).click();
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row).toHaveCount(1);
  await row.getByRole("button", { name: "Delete nightly backup job" }).click();
  await dialog.getByRole("button", { name: "Delete token" }).click();
  await expect(row).toHaveCount(0);
  await expect(page.getByTestId("no-tokens")).toBeVisible();
  // The deleted token stops working at once.
  const after = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${regenerated}` } });
  expect(after.status()).toBe(401);
  expect((await after.json()).error.code).toBe("token_revoked");

  // All of it is on the Activity page, newest first.
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Activity" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Activity" })).toBeVisible();
  const kinds = await page.locator("table.activity tbody tr").evaluateAll((rows) =>
    rows.map((r) => r.getAttribute("data-kind")),
  );
  expect(kinds.slice(0, 4)).toEqual(["token_deleted", "token_regenerated", "token_used_from_new_ip", "token_created"]);
  expect(kinds).toContain("sign_up");
  await screenshot(page, "activity");
});

test("form errors, reader teams and expiry flags", async ({ page }) => {
  const user = uniqueName("rdr");
  const owner = uniqueName("own");
  const team = uniqueName("ro");
  cli(["user", "add", owner], `${PASSWORD}\n`);
  cli(["team", "add", team, "--owner", owner]);
  await signUp(page, user);
  cli(["team", "member", "add", team, user, "--role", "reader"]);

  await page.goto("/");
  await hydrated(page);
  await openNewTokenForm(page);
  // A reader cannot enable write access, and is told why.
  await page.getByLabel("Team", { exact: true }).selectOption(team);
  await expect(page.getByLabel("Enable write access")).toBeDisabled();
  await expect(page.locator("#write-help")).toContainText("reader");

  // Errors appear next to their field, in the app's words.
  await page.getByRole("button", { name: "Generate token" }).click();
  await expect(page.locator("#description-error")).toHaveText("Enter a description, so you know what the token is for.");
  await page.getByLabel("Description").fill("deploy bot");
  await page.getByLabel("Expiration").selectOption("custom");
  await page.getByLabel("Custom expiry date").fill("2020-01-01");
  await page.getByRole("button", { name: "Generate token" }).click();
  await expect(page.locator("#expires_on-error")).toHaveText("The expiry date must be in the future.");

  // A token that lives 7 days in all ends by design: no "expires soon" mark, no banner
  // (token_page.spec.ts has a longer-lived token that does warn).
  await page.getByLabel("Expiration").selectOption("7");
  await page.getByRole("button", { name: "Generate token" }).click();
  await shownToken(page);
  await expect(page.locator("tr", { hasText: "deploy bot" })).toBeVisible();
  await expect(page.getByTestId("expiry-banner")).toHaveCount(0);
  await expect(page.locator("tr", { hasText: "deploy bot" }).locator(".soon")).toHaveCount(0);

  // Duplicate descriptions (ignoring case) are refused next to the field.
  await openNewTokenForm(page);
  await page.getByLabel("Team", { exact: true }).selectOption(team);
  await page.getByLabel("Description").fill("DEPLOY BOT");
  await page.getByLabel("Expiration").selectOption("never");
  await page.getByRole("button", { name: "Generate token" }).click();
  await expect(page.locator("#description-error")).toContainText("already have a token with this description");

  await page.getByLabel("Description").fill("forever token");
  await page.getByRole("button", { name: "Generate token" }).click();
  await shownToken(page);
  await expect(page.locator("tr", { hasText: "forever token" }).locator(".never")).toHaveText("never");
  await screenshot(page, "token-table-flags");
});
