import { test, expect, Page } from "./fixtures";
import { cli, createToken, hydrated, openNewTokenForm, rememberSecret, screenshot, signUp, uniqueName } from "./helpers";

// Per-token IP allow-lists and rotation with an overlap (docs/tokens.md), in the browser: create
// a token limited to some addresses, edit the list, rotate with a 1-hour overlap, see which
// value was used, and stop the old value early. The browser (and page.request) call from
// 127.0.0.1.

async function shownToken(page: Page): Promise<string> {
  const panel = page.getByTestId("new-token-panel");
  await expect(panel).toBeVisible();
  const value = (await page.locator("#new-token-value").textContent())!.trim();
  expect(value).toMatch(/^pdk_[0-9A-Za-z]{38}$/);
  rememberSecret(value);
  return value;
}

async function me(page: Page, value: string) {
  const response = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${value}` } });
  return { status: response.status(), body: await response.json() };
}

test("allow-list on creation and edit, rotation with an overlap ended early", async ({ page }) => {
  test.setTimeout(120_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    // The refused list below is a 422 by design; anything else logged as an error is not.
    if (m.type() === "error" && !m.text().includes("422")) errors.push(m.text());
  });
  const user = uniqueName("ipuser");
  const team = uniqueName("ipteam");
  await signUp(page, user);
  cli(["team", "add", team, "--owner", user]);
  await page.goto("/");
  await hydrated(page);
  await openNewTokenForm(page);

  // A bad entry is a field error under the list, and no token is made.
  await page.getByLabel("Description").fill("deploy from CI");
  await page.getByLabel("Team", { exact: true }).selectOption(team);
  await page.locator("#allowed_ips").fill("127.0.0.1\n10.0.0.0/33");
  await page.getByRole("button", { name: "Generate token" }).click();
  await expect(page.locator("#allowed_ips-error")).toContainText("“10.0.0.0/33” has no valid prefix length");
  await expect(page.getByTestId("no-tokens")).toBeVisible();
  await screenshot(page, "allow-list-error");

  // Created with a list: shown canonically on the row, and calls from 127.0.0.1 pass.
  await page.locator("#allowed_ips").fill("127.0.0.1\n10.1.2.3/8");
  await page.getByRole("button", { name: "Generate token" }).click();
  const value = await shownToken(page);
  const row = page.locator("tr", { hasText: "deploy from CI" });
  await expect(row.getByTestId("allowed-ips")).toHaveText("Only from 127.0.0.1/32, 10.0.0.0/8");
  expect((await me(page, value)).status).toBe(200);
  await screenshot(page, "allow-list-created");

  // Edited to a range without 127.0.0.1: the next call is refused, naming the caller's address.
  await row.getByRole("link", { name: "Edit the allowed IP addresses of deploy from CI" }).click();
  const editor = row.getByLabel("Allowed IP addresses", { exact: true });
  await expect(editor).toHaveValue("127.0.0.1/32\n10.0.0.0/8");
  await expect(editor).toBeFocused();
  // One form at a time: Cancel closes it unchanged.
  await row.getByRole("link", { name: "Cancel" }).click();
  await expect(editor).toHaveCount(0);
  await expect(row.getByTestId("allowed-ips")).toHaveText("Only from 127.0.0.1/32, 10.0.0.0/8");
  await row.getByRole("link", { name: "Edit the allowed IP addresses of deploy from CI" }).click();
  await editor.fill("10.0.0.0/8");
  await screenshot(page, "allow-list-editing");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(row.getByTestId("allowed-ips")).toHaveText("Only from 10.0.0.0/8");
  // Saved: the form closes.
  await expect(row.getByLabel("Allowed IP addresses", { exact: true })).toHaveCount(0);
  const refused = await me(page, value);
  expect(refused.status).toBe(403);
  expect(refused.body.error.code).toBe("ip_not_allowed");
  expect(refused.body.error.message).toContain("127.0.0.1");
  // Emptied: any address again.
  await row.getByRole("link", { name: "Edit the allowed IP addresses of deploy from CI" }).click();
  await row.getByLabel("Allowed IP addresses", { exact: true }).fill("");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(row.getByTestId("allowed-ips")).toHaveText("Any IP address");
  expect((await me(page, value)).status).toBe(200);

  // Rotate with a 1-hour overlap: a new value, and the old one still works.
  await row.getByRole("button", { name: "Rotate deploy from CI" }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText("Rotate “deploy from CI”?");
  await dialog.getByLabel("Keep the old value working for").selectOption({ label: "1 hour" });
  await screenshot(page, "rotate-dialog");
  await dialog.getByRole("button", { name: "Rotate token" }).click();
  // The panel still shows the value made above until the rotation's answer replaces it.
  await expect(page.locator("#new-token-value")).not.toHaveText(value);
  const rotated = await shownToken(page);
  expect(rotated).not.toBe(value);
  await expect(page.getByTestId("old-value-note")).toContainText("The old value keeps working until");
  await expect(row.locator(".partial")).toHaveText(`pdk_…${rotated.slice(-4)}`);
  await expect(row.getByTestId("old-value")).toContainText(`Old value pdk_…${value.slice(-4)} valid until`);
  await expect(row.getByTestId("old-value")).toContainText("not used since the rotation");
  const withOld = await me(page, value);
  expect(withOld.status).toBe(200);
  expect(withOld.body.token.old_value).toBe(true);

  // The page tells which value was used last (uses are written in batches, seconds later).
  await expect(async () => {
    await page.reload();
    await expect(row.getByTestId("last-used-value")).toHaveText("old value", { timeout: 1000 });
  }).toPass({ timeout: 20_000, intervals: [1000] });
  await hydrated(page);
  await expect(row.getByTestId("old-value")).toContainText("last used just now");
  await screenshot(page, "rotation-old-value-used");
  expect((await me(page, rotated)).status).toBe(200);
  await expect(async () => {
    await page.reload();
    await expect(row.getByTestId("last-used-value")).toHaveText("new value", { timeout: 1000 });
  }).toPass({ timeout: 20_000, intervals: [1000] });
  await hydrated(page);

  // Stop the old value now: it fails at once, the new one goes on.
  await row.getByRole("button", { name: "Stop it now" }).click();
  await expect(dialog).toContainText(`The old value pdk_…${value.slice(-4)} stops working at once`);
  await dialog.getByRole("button", { name: "Stop old value" }).click();
  await expect(row.getByTestId("old-value")).toHaveCount(0);
  const dead = await me(page, value);
  expect(dead.status).toBe(401);
  expect(dead.body.error.code).toBe("token_rotated");
  expect((await me(page, rotated)).status).toBe(200);
  await screenshot(page, "rotation-ended");
  expect(errors).toEqual([]);
});

test("a team admin narrows a member's allow-list but cannot widen it", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const admin = uniqueName("ipadmin");
  const member = uniqueName("ipmember");
  const team = uniqueName("ipteam");
  await signUp(page, admin);
  cli(["team", "add", team, "--owner", admin]);
  cli(["user", "add", member], "correct horse battery staple\n");
  cli(["team", "member", "add", team, member, "--role", "writer"]);
  const created = createToken(member, team, "member job", "--allow-ip", "10.0.0.0/8");

  await page.goto(`/teams/${team}/tokens`);
  await hydrated(page);
  const row = page.locator("tr", { hasText: "member job" });
  await expect(row.getByTestId("allowed-ips")).toHaveText("Only from 10.0.0.0/8");
  await row.getByRole("link", { name: "Edit the allowed IP addresses of member job" }).click();
  const editor = row.getByLabel("Allowed IP addresses", { exact: true });
  // Wider than the member's list: refused, saying why.
  await editor.fill("0.0.0.0/0");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(row.locator(".field-error")).toContainText("narrow another member's list but not widen it");
  await screenshot(page, "allow-list-admin-refused");
  // Narrower: saved, and in force.
  await editor.fill("10.1.0.0/16");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(row.getByTestId("allowed-ips")).toHaveText("Only from 10.1.0.0/16");
  const me = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${created.token}` } });
  expect(me.status()).toBe(403);
  await screenshot(page, "allow-list-admin-narrowed");
  expect(errors).toEqual([]);
});

test("a token's allow-list can be edited before the wasm loads", async ({ browser }) => {
  const user = uniqueName("ipnojs");
  const team = uniqueName("ipteam");
  cli(["user", "add", user], "correct horse battery staple\n");
  cli(["team", "add", team, "--owner", user]);
  const created = createToken(user, team, "plain form");
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/signin");
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  const row = page.locator("tr", { hasText: "plain form" });
  await expect(row.getByTestId("allowed-ips")).toHaveText("Any IP address");
  // No form is rendered until Edit is followed: a link the server answers with the form open.
  await expect(page.getByLabel("Allowed IP addresses", { exact: true })).toHaveCount(0);
  await row.getByRole("link", { name: "Edit the allowed IP addresses of plain form" }).click();
  await expect(page).toHaveURL(/[?&]edit_ips=tok_/);
  await row.getByLabel("Allowed IP addresses", { exact: true }).fill("10.0.0.0/33");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#allowed-ips-edit-error")).toContainText("has no valid prefix length");
  await page.locator("#allowed-ips-edit").fill("192.0.2.0/24");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(row.getByTestId("allowed-ips")).toHaveText("Only from 192.0.2.0/24");
  await context.close();
});

test("a page the server draws with the allow-list form open hydrates with the form working", async ({ page }) => {
  // The form is a lazy part (docs/frontend.md): its code must be there before hydration.
  const user = uniqueName("edit");
  const team = uniqueName("editteam");
  await signUp(page, user);
  cli(["team", "add", team, "--owner", user]);
  const created = createToken(user, team, "opened by link");
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(`/?edit_ips=${created.id}`);
  await hydrated(page);
  const row = page.locator("tr", { hasText: "opened by link" });
  await row.getByLabel("Allowed IP addresses", { exact: true }).fill("198.51.100.0/24");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(row.getByTestId("allowed-ips")).toHaveText("Only from 198.51.100.0/24");
  expect(errors).toEqual([]);
});
