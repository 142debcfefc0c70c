import { test, expect, Page } from "./fixtures";
import { PASSWORD, ageSessions, cli, hydrated, openNewTokenForm, rememberSecret, screenshot, signUp, totp, uniqueName } from "./helpers";

async function signInWithPassword(page: Page, username: string) {
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

test("turn on an authenticator app, sign in with it, confirm a token with sudo mode", async ({ page }) => {
  const alice = uniqueName("tfa");
  const team = uniqueName("team");
  await signUp(page, alice);
  cli(["team", "add", team, "--owner", alice]);

  // Enrol: a QR code drawn on the server and the key as text, confirmed with a current code.
  await page.goto("/account");
  await hydrated(page);
  await page.getByTestId("totp-begin").click();
  await expect(page.getByTestId("totp-qr").locator("svg")).toBeVisible();
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  rememberSecret(secret);
  await screenshot(page, "two-factor-enrol");
  // The QR code is in the server's HTML: it shows before the wasm loads.
  expect(await (await page.request.get("/account")).text()).toContain("<svg");
  await page.getByTestId("totp-confirm-code").fill("000000");
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.locator("#confirm-code-error")).toContainText("not right");
  await page.getByTestId("totp-confirm-code").fill(totp(secret));
  await page.getByRole("button", { name: "Turn on" }).click();
  const codes = page.getByTestId("recovery-codes");
  await expect(codes).toBeVisible();
  const recovery = (await codes.locator("li code").allTextContents()).map((c) => c.trim());
  expect(recovery).toHaveLength(10);
  recovery.forEach(rememberSecret);
  await expect(codes.getByRole("link", { name: "Download" })).toHaveAttribute("download", "patdesk-recovery-codes.txt");
  await expect(page.getByTestId("two-factor-on")).toContainText("10 of your recovery codes are left");
  await screenshot(page, "two-factor-recovery-codes");

  // Signing in now asks for the code on a step of its own; the session starts after it.
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  await signInWithPassword(page, alice);
  await expect(page).toHaveURL(/\/signin\/two-factor/);
  await expect(page.getByRole("heading", { name: "Two-factor sign-in" })).toBeVisible();
  await screenshot(page, "two-factor-sign-in");
  expect((await page.request.get("/teams", { maxRedirects: 0 })).status()).toBe(303);
  await page.getByTestId("second-factor-code").fill("123456");
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.locator("#code-error")).toContainText("not right");
  await page.getByTestId("second-factor-code").fill(totp(secret, 1));
  await page.getByRole("button", { name: "Verify" }).click();
  await expect(page.getByText(`Signed in as ${alice}`)).toBeVisible();

  // Much later: making a token asks who you are, then completes with what was typed.
  ageSessions(alice);
  await page.goto("/");
  await hydrated(page);
  await openNewTokenForm(page);
  await page.getByLabel("Description").fill("release pipeline");
  await page.getByLabel("Team", { exact: true }).selectOption(team);
  await page.getByRole("button", { name: "Generate token" }).click();
  const dialog = page.getByTestId("sudo-dialog");
  await expect(dialog).toBeVisible();
  await screenshot(page, "sudo-dialog");
  await dialog.getByLabel("Password").fill(PASSWORD);
  await dialog.getByLabel("Code from your authenticator app (or a recovery code)").fill(recovery[0]);
  await dialog.getByTestId("sudo-confirm").click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByTestId("new-token-panel")).toBeVisible();
  const value = (await page.locator("#new-token-value").textContent())!.trim();
  rememberSecret(value);
  await expect(page.locator("tr", { hasText: "release pipeline" })).toBeVisible();
});

test("the operator's reset and the instance's require-2FA grace period", async ({ page }) => {
  const bob = uniqueName("grace");
  await signUp(page, bob);
  cli(["policy", "set", "--require-2fa", "--2fa-grace-days", "7"]);
  try {
    await page.goto("/account");
    await hydrated(page);
    await expect(page.getByTestId("two-factor-due")).toContainText(/[67] days left/);
    await screenshot(page, "two-factor-due");
    cli(["policy", "set", "--2fa-grace-days", "0"]);
    await page.goto("/teams");
    await expect(page).toHaveURL(/\/account#two-factor$/);
    await expect(page.getByTestId("two-factor-overdue")).toBeVisible();
  } finally {
    cli(["policy", "set", "--no-require-2fa"]);
  }
  // Enrolled, then every factor lost: the operator turns it off, and bob is told.
  await page.goto("/account");
  await hydrated(page);
  await page.getByTestId("totp-begin").click();
  const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
  rememberSecret(secret);
  await page.getByTestId("totp-confirm-code").fill(totp(secret));
  await page.getByRole("button", { name: "Turn on" }).click();
  await expect(page.getByTestId("recovery-codes")).toBeVisible();
  for (const code of await page.getByTestId("recovery-codes").locator("li code").allTextContents()) {
    rememberSecret(code.trim());
  }
  expect(cli(["user", "reset-2fa", bob])).toContain(`reset for ${bob}`);
  await page.goto("/notifications");
  await expect(
    page.getByRole("main").getByRole("link", { name: "Two-factor sign-in was turned off on your patdesk account" }),
  ).toHaveAttribute("href", "/account");
  await page.goto("/account");
  await expect(page.getByTestId("totp-begin")).toBeVisible();
});
