import { test, expect, Browser, Page } from "./fixtures";
import { cli, createToken, hydrated, openMainMenu, openNewTokenForm, PASSWORD, rememberSecret, screenshot, signUp, uniqueName } from "./helpers";

// A team admin reviews the tokens that reach the team and revokes one (docs/governance.md);
// the member whose token it was sees who revoked it and why; a writer gets no tab, and the
// tab's server function refuses them over plain HTTP.

async function signIn(browser: Browser, username: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText(`Signed in as ${username}`)).toBeVisible();
  return page;
}

function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

test("a team admin finds a member's token, revokes it with a reason, and the member sees why", async ({
  page,
  browser,
}) => {
  const errors = watchErrors(page);
  const admin = uniqueName("admin");
  const member = uniqueName("member");
  const team = uniqueName("gov");
  await signUp(page, admin);
  cli(["team", "add", team, "--owner", admin, "--name", "Governed team"]);
  cli(["user", "add", member], `${PASSWORD}\n`);
  cli(["team", "member", "add", team, member, "--role", "writer"]);
  const created = createToken(member, team, "ci deploy", "--write");
  const value = created.token;
  const other = createToken(admin, team, "admin audit");
  expect((await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${value}` } })).status()).toBe(200);

  // From the team page, the Tokens tab: both tokens, with owner, partial value and scope.
  await page.goto(`/teams/${team}`);
  await hydrated(page);
  await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Tokens" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${team}/tokens$`));
  const row = page.locator("tr", { hasText: "ci deploy" });
  await expect(row).toContainText(member);
  await expect(row).toContainText("read/write");
  await expect(row.locator(".partial")).toHaveText(`pdk_…${value.slice(-4)}`);
  await expect(page.locator("tr", { hasText: "admin audit" })).toBeVisible();
  await screenshot(page, "team-tokens");

  // Filter to the member's write tokens: only theirs is left, and the URL says so.
  await page.getByLabel("Owner").selectOption(member);
  await page.getByLabel("Scope").selectOption("write");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(new RegExp(`owner=${member}`));
  await expect(page.locator("tr", { hasText: "admin audit" })).toHaveCount(0);
  await expect(page.getByTestId("token-count")).toHaveText("1 live token");

  // Revoke, with a confirmation naming the token and its owner, and a reason.
  await row.getByRole("button", { name: `Revoke ci deploy of ${member}` }).click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText(`Revoke “ci deploy” of ${member}?`);
  await dialog.getByLabel("Reason (optional)").fill("printed in a public CI log");
  await screenshot(page, "team-tokens-revoke");
  await dialog.getByRole("button", { name: "Revoke token" }).click();
  await expect(page.getByRole("status")).toContainText(`Revoked “ci deploy” of ${member}.`);
  await expect(page.locator("tr", { hasText: "ci deploy" })).toHaveCount(0);

  // The member's next API call is refused.
  const refused = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${value}` } });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.code).toBe("token_revoked");
  expect(errors).toEqual([]);

  // The member sees who revoked it and why: on the token page and in the activity.
  const memberPage = await signIn(browser, member);
  await memberPage.goto("/?tab=inactive");
  await hydrated(memberPage);
  const revokedRow = memberPage.locator("tr", { hasText: "ci deploy" });
  await expect(revokedRow.getByTestId("ended-note")).toContainText(`Revoked by ${admin}`);
  await expect(revokedRow.getByTestId("ended-note")).toContainText("printed in a public CI log");
  await expect(revokedRow.getByRole("button")).toHaveCount(0);
  await screenshot(memberPage, "token-revoked-by-admin");
  await memberPage.goto("/activity");
  const entry = memberPage.locator("tr[data-kind=token_revoked_by_admin]");
  await expect(entry).toContainText("An admin revoked your token");
  await expect(entry).toContainText(admin);
  await expect(entry).toContainText("printed in a public CI log");

  // The member (a writer) has no Tokens tab, and the server function refuses them.
  await memberPage.goto(`/teams/${team}`);
  await hydrated(memberPage);
  await expect(memberPage.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Tokens" })).toHaveCount(0);
  const direct = await memberPage.request.post("/rpc/team_tokens", {
    form: { team, in_team: "", owner: "", access: "", unused: "false", expiring: "false", pending: "false", page: "1" },
    headers: { Origin: new URL(memberPage.url()).origin },
  });
  expect(direct.status()).toBe(403);
  expect(await direct.text()).not.toContain("admin audit");
  const revoke = await memberPage.request.post("/rpc/revoke_team_token", {
    form: { team, id: other.id },
    headers: { Origin: new URL(memberPage.url()).origin },
  });
  expect(revoke.status()).toBe(403);
  await memberPage.context().close();
});

test("every page fits a phone: no sideways scrolling at 390 px", async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const user = uniqueName("phone");
  const team = uniqueName("phoneteam");
  // An instance admin, so that the admin pages are checked too.
  cli(["user", "add", user, "--admin"], `${PASSWORD}\n`);
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText(`Signed in as ${user}`)).toBeAttached();
  cli(["team", "add", team, "--owner", user, "--name", "Phone team"]);
  createToken(user, team, "laptop script");
  const paths = ["/", "/teams", `/teams/${team}`, `/teams/${team}/tokens`, "/activity", "/explorer"];
  for (const path of [...paths, "/admin", "/admin/users", "/admin/tokens"]) {
    await page.goto(path);
    await hydrated(page);
    const [width, wide] = await page.evaluate(() => {
      const beyond = [...document.querySelectorAll("body *")]
        .filter((el) => el.getBoundingClientRect().right > 391 && !el.closest(".table-wrap, .explorer"))
        .map((el) => `${el.tagName.toLowerCase()}.${el.className}`);
      return [document.documentElement.scrollWidth, beyond.slice(0, 5)] as const;
    });
    expect(width, `${path} scrolls sideways (${wide.join(", ")})`).toBeLessThanOrEqual(390);
    const name = path === "/" ? "home" : path.replaceAll("/", "-").replace(/^-/, "").replace(team, "team");
    await screenshot(page, `phone-${name}`);
  }
  // The main menu is all there and usable, behind "Menu".
  await openMainMenu(page);
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Activity" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Activity" })).toBeVisible();
  await context.close();
});

test("with approval required, a writer's write token waits until an admin approves it; a denied one is gone", async ({
  page,
  browser,
}) => {
  const errors = watchErrors(page);
  const admin = uniqueName("approver");
  const writer = uniqueName("writer");
  const team = uniqueName("appr");
  await signUp(page, admin);
  cli(["team", "add", team, "--owner", admin, "--name", "Approval team"]);
  cli(["user", "add", writer], `${PASSWORD}\n`);
  cli(["team", "member", "add", team, writer, "--role", "writer"]);

  // The admin turns approval on from the team page.
  await page.goto(`/teams/${team}`);
  await hydrated(page);
  await page.getByLabel("Require approval for write tokens").check();
  await page.getByRole("button", { name: "Save policy" }).click();
  await expect(page.getByLabel("Require approval for write tokens")).toBeChecked();
  await page.reload();
  await expect(page.getByLabel("Require approval for write tokens")).toBeChecked();
  await screenshot(page, "team-policy");

  // The writer makes a write token: shown once, marked as waiting, refused by the API.
  const writerPage = await signIn(browser, writer);
  const makeToken = async (description: string) => {
    await writerPage.goto("/");
    await hydrated(writerPage);
    await openNewTokenForm(writerPage);
    await writerPage.getByLabel("Description").fill(description);
    await writerPage.getByLabel("Team", { exact: true }).selectOption(team);
    await writerPage.getByLabel("Enable write access").check();
    await writerPage.getByRole("button", { name: "Generate token" }).click();
    await expect(writerPage.getByTestId("pending-note")).toBeVisible();
    const value = (await writerPage.locator("#new-token-value").textContent())!.trim();
    rememberSecret(value);
    return value;
  };
  const value = await makeToken("release bot");
  await expect(writerPage.locator("tr", { hasText: "release bot" }).getByTestId("pending-badge")).toBeVisible();
  await screenshot(writerPage, "token-pending");
  const headers = { Authorization: `Bearer ${value}` };
  const waiting = await writerPage.request.get("/api/v1/me", { headers });
  expect(waiting.status()).toBe(403);
  expect((await waiting.json()).error.code).toBe("token_pending_approval");

  // The admin finds it among the waiting tokens and approves it; the same value then writes.
  await page.goto(`/teams/${team}/tokens?pending=on`);
  await hydrated(page);
  const row = page.locator("tr", { hasText: "release bot" });
  await expect(row).toContainText("waiting for approval");
  await screenshot(page, "team-tokens-approval");
  await row.getByRole("button", { name: `Approve release bot of ${writer}` }).click();
  await expect(page.getByRole("status")).toContainText(`Approved “release bot” of ${writer}.`);
  const question = { title: "Approved?", body: "The token writes now." };
  const writes = await page.request.post(`/api/v1/teams/${team}/questions`, { headers, data: question });
  expect(writes.status()).toBe(201);

  // A second one, denied: it never works, and the writer sees who denied it and why.
  const denied = await makeToken("wide open bot");
  await page.goto(`/teams/${team}/tokens?pending=on`);
  await hydrated(page);
  await page
    .locator("tr", { hasText: "wide open bot" })
    .getByRole("button", { name: `Deny wide open bot of ${writer}` })
    .click();
  const dialog = page.getByRole("dialog");
  await expect(dialog).toContainText(`Deny “wide open bot” of ${writer}?`);
  await dialog.getByLabel("Reason (optional)").fill("a read token is enough");
  await dialog.getByRole("button", { name: "Deny token" }).click();
  await expect(page.getByRole("status")).toContainText(`Denied “wide open bot” of ${writer}.`);
  const gone = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${denied}` } });
  expect(gone.status()).toBe(401);
  await writerPage.goto("/?tab=inactive");
  await expect(writerPage.locator("tr", { hasText: "wide open bot" }).getByTestId("ended-note")).toContainText(
    `Denied by ${admin}`,
  );
  expect(errors).toEqual([]);
  await writerPage.context().close();
});

test("an instance admin caps token lifetimes at 30 days: the form, old tokens and the CLI follow", async ({
  browser,
}) => {
  const admin = uniqueName("root");
  const member = uniqueName("capped");
  const team = uniqueName("cap");
  cli(["user", "add", admin, "--admin"], `${PASSWORD}\n`);
  cli(["user", "add", member], `${PASSWORD}\n`);
  cli(["team", "add", team, "--owner", member]);
  const before = createToken(member, team, "quarterly", "--expires-in-days", "90");
  const adminPage = await signIn(browser, admin);
  const errors = watchErrors(adminPage);
  try {
    await adminPage.getByRole("link", { name: "Admin" }).click();
    await expect(adminPage.getByRole("heading", { level: 1, name: "Admin" })).toBeVisible();
    await hydrated(adminPage);
    await adminPage.getByLabel("Maximum token lifetime (days)").fill("30");
    await adminPage.getByRole("button", { name: "Save policy" }).click();
    await expect(adminPage.getByTestId("policy-saved")).toContainText(/Policy saved \(tokens live at most 30 days\)\. \d+ tokens? shortened\./);
    await screenshot(adminPage, "admin-policy");
    expect(errors).toEqual([]);

    // The member's form offers 7 and 30 days and a custom date, nothing longer, no "never";
    // the 90-day token made before now expires 30 days after its creation.
    const memberPage = await signIn(browser, member);
    // (Opened by its link, as before the wasm has loaded: the server draws the form.)
    await memberPage.goto("/?new");
    await hydrated(memberPage);
    const offered = await memberPage.getByLabel("Expiration").locator("option").allTextContents();
    expect(offered).toEqual(["7 days", "30 days", "Custom date…"]);
    const row = memberPage.locator("tr", { hasText: "quarterly" });
    const created = new Date((await row.locator("td").nth(4).innerText()).trim());
    const expires = new Date((await row.locator("td").nth(5).innerText()).trim());
    expect((expires.getTime() - created.getTime()) / 86_400_000).toBe(30);
    await memberPage.goto("/activity");
    await expect(memberPage.locator("tr[data-kind=token_expiry_shortened]", { hasText: "quarterly" })).toContainText(admin);
    await memberPage.context().close();

    // The CLI refuses 60 days, naming the policy.
    let refusal = "";
    try {
      cli(["token", "create", "--user", member, "--team", team, "--description", "too long", "--expires-in-days", "60"]);
    } catch (error) {
      refusal = String((error as { stderr?: Buffer }).stderr ?? error);
    }
    expect(refusal).toContain("token policy allows at most 30 days");
  } finally {
    // The other tests share this server: give them back the open policy.
    cli(["policy", "set", "--max-lifetime-days", "none", "--no-require-expiry", "--explorer-lifetime-hours", "24"]);
    await adminPage.context().close();
  }
});

test("an instance admin suspends a user: their token stops at once and sign-in says why", async ({ browser }) => {
  const admin = uniqueName("boss");
  const member = uniqueName("leaver");
  const team = uniqueName("inv");
  cli(["user", "add", admin, "--admin"], `${PASSWORD}\n`);
  cli(["user", "add", member], `${PASSWORD}\n`);
  cli(["team", "add", team, "--owner", member, "--name", "Inventory team"]);
  const created = createToken(member, team, "nightly sync");
  const adminPage = await signIn(browser, admin);
  const errors = watchErrors(adminPage);
  const headers = { Authorization: `Bearer ${created.token}` };
  expect((await adminPage.request.get("/api/v1/me", { headers })).status()).toBe(200);

  // Every token of every team, filtered to the member's team.
  await adminPage.goto(`/admin/tokens?team=${team}`);
  await hydrated(adminPage);
  const tokenRow = adminPage.locator("tr", { hasText: "nightly sync" });
  await expect(tokenRow).toContainText(member);
  await expect(tokenRow).toContainText(team);
  await screenshot(adminPage, "admin-tokens");

  // Suspend from the Users tab.
  await adminPage.getByRole("navigation", { name: "Admin" }).getByRole("link", { name: "Users" }).click();
  const userRow = adminPage.locator(`tr[data-user="${member}"]`);
  await userRow.getByRole("button", { name: `Suspend ${member}` }).click();
  await expect(userRow).toContainText("suspended");
  await screenshot(adminPage, "admin-users");
  await expect
    .poll(async () => (await adminPage.request.get("/api/v1/me", { headers })).status(), { timeout: 1000 })
    .toBe(401);
  expect(errors).toEqual([]);

  // The member's sign-in is refused, saying why.
  const page = await (await browser.newContext()).newPage();
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Username").fill(member);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "This account is suspended" })).toBeVisible();
  await page.context().close();
  await adminPage.context().close();
});
