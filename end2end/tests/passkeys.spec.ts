import { test, expect, Page } from "./fixtures";
import { PASSWORD, ageSessions, cli, hydrated, openNewTokenForm, rememberSecret, screenshot, uniqueName } from "./helpers";

// Browsers refuse an IP address as a passkey's site: the server (PATDESK_PUBLIC_URL
// http://127.0.0.1:<port>) is a relying party for http://localhost:<port>, where this spec opens
// it (docs/two-factor.md).
function local(baseURL: string | undefined): string {
  return baseURL!.replace("127.0.0.1", "localhost");
}

/** Chromium's virtual authenticator (DevTools protocol): a platform authenticator that keeps
 * discoverable credentials and verifies its user. */
async function virtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

test("register a passkey, sign in with it alone and as the second step, confirm with it, remove it", async ({ page, baseURL }) => {
  const site = local(baseURL);
  const { cdp, authenticatorId } = await virtualAuthenticator(page);
  // At the server's IP address the button says where passkeys work instead of failing blindly.
  await page.goto("/signin");
  await hydrated(page);
  await page.getByTestId("passkey-sign-in").click();
  await expect(page.getByRole("alert").filter({ hasText: "belong to localhost" })).toBeVisible();
  const carol = uniqueName("pk");
  const team = uniqueName("team");

  await page.goto(`${site}/signup`);
  await hydrated(page);
  await page.getByLabel("Username").fill(carol);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText(`Signed in as ${carol}`)).toBeVisible();
  cli(["team", "add", team, "--owner", carol]);

  // Register.
  await page.goto(`${site}/account`);
  await hydrated(page);
  await expect(page.getByTestId("no-passkeys")).toBeVisible();
  await page.getByLabel("Name", { exact: true }).fill("work laptop");
  await page.getByTestId("add-passkey").click();
  const row = page.getByTestId("passkey-row");
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("work laptop");
  await expect(row).toContainText("Never");
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  expect(credentials).toHaveLength(1);
  expect(credentials[0].isResidentCredential).toBe(true);
  await screenshot(page, "passkeys-card");

  // Sign out; sign in with the passkey alone.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  await hydrated(page);
  await screenshot(page, "sign-in-with-passkey");
  await page.getByTestId("passkey-sign-in").click();
  await expect(page.getByText(`Signed in as ${carol}`)).toBeVisible();
  await page.goto(`${site}/account`);
  await expect(page.getByTestId("passkey-row")).not.toContainText("Never");

  // With a passkey, the password is followed by a second step, which the passkey passes.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  await hydrated(page);
  await page.getByLabel("Username").fill(carol);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/signin\/two-factor/);
  await hydrated(page);
  await page.getByTestId("passkey-sign-in").click();
  await expect(page.getByText(`Signed in as ${carol}`)).toBeVisible();

  // Much later, making a token: confirmed with the passkey, and the token is made as typed.
  ageSessions(carol);
  await page.goto(`${site}/`);
  await hydrated(page);
  await openNewTokenForm(page);
  await page.getByLabel("Description").fill("passkey-confirmed job");
  await page.getByLabel("Team", { exact: true }).selectOption(team);
  await page.getByRole("button", { name: "Generate token" }).click();
  const dialog = page.getByTestId("sudo-dialog");
  await expect(dialog).toBeVisible();
  await dialog.getByTestId("sudo-passkey").click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId("new-token-panel")).toBeVisible();
  rememberSecret((await page.locator("#new-token-value").textContent())!.trim());
  await expect(page.locator("tr", { hasText: "passkey-confirmed job" })).toBeVisible();

  // Remove it: the account has no passkey, and the password alone signs in again.
  await page.goto(`${site}/account`);
  await hydrated(page);
  await page.getByRole("button", { name: "Remove the passkey work laptop" }).click();
  await expect(page.getByTestId("no-passkeys")).toBeVisible();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  await hydrated(page);
  await page.getByLabel("Username").fill(carol);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText(`Signed in as ${carol}`)).toBeVisible();
});
