import { expect, test } from "./fixtures";
import { issuer } from "../playwright.config";
import { PASSWORD, ageSessions, cli, hydrated, screenshot, signUp, uniqueName } from "./helpers";

// The provider's pages link a stylesheet on a CDN: nothing outside this machine is contacted.
test.beforeEach(async ({ page }) => {
  await page.route(/^https:\/\/cdn\.jsdelivr\.net\//, (route) => route.abort());
});

test("signs in through the identity provider's own page: the first time makes the account", async ({ page, request }) => {
  const sub = uniqueName("sub");
  const name = uniqueName("sso");
  const set = await request.put(`${issuer}/users/${sub}`, {
    data: { preferred_username: name, email: `${name}@example.com`, email_verified: true },
  });
  expect(set.status()).toBe(204);

  await page.goto("/signin?next=/activity");
  await hydrated(page);
  await screenshot(page, "sso-sign-in");
  await page.getByRole("link", { name: "Sign in with Example SSO" }).click();
  // The provider's own form.
  await expect(page.getByRole("heading", { name: "Authorize Client" })).toBeVisible();
  await page.getByPlaceholder("sub").fill(sub);
  await page.getByRole("button", { name: "Authorize" }).click();

  await page.waitForURL("**/activity");
  await expect(page.getByText(`Signed in as ${name}`)).toBeVisible();
  await expect(page.locator("tr[data-kind=sso_sign_up]")).toHaveCount(1);
  await expect(page.locator("tr[data-kind=sso_sign_in]")).toHaveCount(1);
  await screenshot(page, "sso-signed-in");
});

test("a password account links single sign-on from the Account page, then signs in with it", async ({ page, browser }) => {
  const alice = uniqueName("alice");
  await signUp(page, alice);
  await page.goto("/account");
  await hydrated(page);
  const card = page.getByTestId("sso-card");
  await expect(card).toContainText("Link your account to Example SSO");
  await card.getByRole("button", { name: "Link Example SSO" }).click();
  const sub = uniqueName("sub");
  await page.getByPlaceholder("sub").fill(sub);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL("**/account");
  await expect(page.getByTestId("sso-card")).toContainText("Your account is linked to Example SSO");
  await screenshot(page, "sso-linked");

  // A fresh browser signs in as the same subject: it is alice.
  const other = await browser.newContext();
  const fresh = await other.newPage();
  await fresh.route(/^https:\/\/cdn\.jsdelivr\.net\//, (route) => route.abort());
  await fresh.goto("/signin");
  await hydrated(fresh);
  await fresh.getByRole("link", { name: "Sign in with Example SSO" }).click();
  await fresh.getByPlaceholder("sub").fill(sub);
  await fresh.getByRole("button", { name: "Authorize" }).click();
  await expect(fresh.getByText(`Signed in as ${alice}`)).toBeVisible();
  await other.close();
});

test("an instance admin sees the provider's settings, never its secret, and maps a group to a team", async ({ page }) => {
  // The first account of the instance is its admin; the suite's other specs ran first, so sign
  // in as the admin the CLI makes.
  const admin = uniqueName("root");
  cli(["user", "add", admin, "--admin"], `${PASSWORD}\n`);
  const team = uniqueName("grp");
  cli(["team", "add", team, "--owner", admin]);
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Username").fill(admin);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText(`Signed in as ${admin}`)).toBeVisible();
  await page.goto("/admin");
  await hydrated(page);
  const card = page.getByTestId("sso-settings");
  await expect(card).toContainText("patdesk-e2e");
  await expect(card).toContainText("/auth/oidc/callback");
  await expect(card).not.toContainText("e2e-client-secret");
  await card.getByLabel("Group").fill("platform-team");
  await card.getByLabel("Team", { exact: true }).fill(team);
  await card.getByRole("button", { name: "Map group" }).click();
  await expect(card.getByTestId("group-mappings")).toContainText(`platform-team → ${team} as writer`);
  await screenshot(page, "sso-admin");
  await card.getByRole("button", { name: "Remove the mapping of platform-team" }).click();
  await expect(card.getByTestId("group-mappings")).toHaveCount(0);
});

test("linking from a session signed in long ago asks to confirm it is you first; unlinking too", async ({ page }, testInfo) => {
  // Sessions are aged on the SQLite server's database (helpers.ageSessions).
  test.skip(testInfo.project.name === "sso on postgres", "ages sessions on the SQLite database");
  const carol = uniqueName("carol");
  await signUp(page, carol);
  ageSessions(carol);

  // Straight to the link's address: not sent to the provider, told why.
  await page.goto("/auth/oidc/link");
  await expect(page.getByTestId("sso-message")).toContainText("confirm it is you");
  await expect(page.getByRole("heading", { name: "Authorize Client" })).toHaveCount(0);

  // The Account page's button asks for the password, then goes on to the provider.
  await page.goto("/account");
  await hydrated(page);
  await page.getByTestId("sso-card").getByRole("button", { name: "Link Example SSO" }).click();
  const dialog = page.getByTestId("sudo-dialog");
  await expect(dialog).toBeVisible();
  await screenshot(page, "sso-link-confirm");
  await dialog.getByLabel("Password").fill(PASSWORD);
  await dialog.getByTestId("sudo-confirm").click();
  await expect(page.getByRole("heading", { name: "Authorize Client" })).toBeVisible();
  const sub = uniqueName("sub");
  await page.getByPlaceholder("sub").fill(sub);
  await page.getByRole("button", { name: "Authorize" }).click();
  await page.waitForURL("**/account");
  await hydrated(page);
  const card = page.getByTestId("sso-card");
  await expect(card).toContainText("Your account is linked to Example SSO");
  await expect(card.getByTestId("sso-link-row")).toContainText(issuer);

  // The owner is told of the new way in.
  await page.goto("/notifications");
  await expect(page.getByRole("link", { name: "Single sign-on was linked to your patdesk account" })).toBeVisible();

  // Unlinking, from a stale session again, asks too; then the link is gone.
  ageSessions(carol);
  await page.goto("/account");
  await hydrated(page);
  await page.getByTestId("sso-card").getByRole("button", { name: `Unlink ${issuer}` }).click();
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Password").fill(PASSWORD);
  await dialog.getByTestId("sudo-confirm").click();
  await expect(page.getByTestId("sso-card")).toContainText("Link your account to Example SSO");
  await screenshot(page, "sso-unlinked");
});
