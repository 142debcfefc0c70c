import * as fs from "node:fs";
import * as path from "node:path";
import { test, expect, Browser, Page } from "./fixtures";
import { PASSWORD, axeClean, cli, hydrated, rememberSecret, screenshot, signUp, totp, uniqueName } from "./helpers";

// Account care (docs/accounts.md) at both widths: the password changed on the Account page
// ends another browser's session, the Sessions card signs one out, "Forgot password?" through
// a real SMTP server (aiosmtpd, playwright.config.ts) with a link that works once, the sign-in
// page's wait in words, and the second step's "that code was just used".

const NEW_PASSWORD = "a brand new password 42";
const widths = [
  { name: "desktop", use: { viewport: { width: 1280, height: 800 } } },
  { name: "phone", use: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } },
];

/** The mails the SMTP sink stored for `to`, quoted-printable undone. */
function mailsTo(to: string): string[] {
  const dir = path.resolve(__dirname, "../.tmp-mail/new");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((name) => fs.readFileSync(path.join(dir, name), "utf8"))
    .filter((raw) => raw.toLowerCase().includes(`x-rcptto: ${to.toLowerCase()}`))
    .map((raw) =>
      raw
        .replace(/=\r?\n/g, "")
        .replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16))),
    );
}

/** The reset link in the latest reset mail to `to`, once it has come. */
async function resetLink(to: string): Promise<string> {
  let link = "";
  await expect
    .poll(() => {
      const found = mailsTo(to)
        .filter((m) => m.includes("X-Patdesk-Notice: password_reset"))
        .map((m) => m.match(/http:\/\/[^\s"<]+\/password-reset\?code=[0-9a-f]{64}/)?.[0])
        .filter((l): l is string => !!l);
      link = found[found.length - 1] ?? "";
      return link;
    }, { message: "a reset link arrives by mail", timeout: 15_000 })
    .not.toBe("");
  // The teardown checks that no log line holds it (leaks.teardown.ts).
  rememberSecret(link.split("code=")[1]);
  return link;
}

async function signIn(page: Page, username: string, password: string) {
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

/** A second browser (its own cookies) at the same width, signed in as `username`. */
async function secondBrowser(browser: Browser, use: (typeof widths)[number]["use"], username: string) {
  const context = await browser.newContext({ ...use, baseURL: test.info().project.use.baseURL });
  const page = await context.newPage();
  await signIn(page, username, PASSWORD);
  await expect(page).toHaveURL(/\/$/);
  return { context, page };
}

for (const width of widths) {
  test.describe(width.name, () => {
    test.use(width.use);

    test(`a password change ends the other browser's session (${width.name})`, async ({ page, browser }) => {
      const alice = uniqueName("care");
      await signUp(page, alice);
      const other = await secondBrowser(browser, width.use, alice);
      const third = await secondBrowser(browser, width.use, alice);

      await page.goto("/account");
      await hydrated(page);
      // Three sessions, this one marked; the others' browser in words.
      const sessions = page.getByTestId("sessions-card");
      await expect(sessions.getByTestId("session-row")).toHaveCount(3);
      await expect(sessions.locator("[data-current=true]").getByTestId("this-session")).toBeVisible();
      await expect(sessions.getByTestId("session-row").first()).toHaveAttribute("data-current", "true");
      await expect(sessions.locator("[data-current=false]").first()).toContainText(/Chrome on Linux|Chrome on Android|Chrome/);
      await screenshot(page, `account-sessions-${width.name}`);
      await axeClean(page, true);

      // Sign out one of the other browsers from here: that one is sent to sign in, the other
      // stays.
      await sessions.locator("[data-current=false]").first().getByTestId("session-sign-out").click();
      await expect(sessions.getByTestId("session-row")).toHaveCount(2);
      const signedOut: boolean[] = [];
      for (const browserPage of [other.page, third.page]) {
        await browserPage.goto("/account");
        await browserPage.waitForURL(/\/(account|signin\?next=%2Faccount)$/);
        signedOut.push(browserPage.url().includes("/signin"));
      }
      expect(signedOut.filter(Boolean)).toHaveLength(1);
      const remaining = signedOut[0] ? third : other;

      // Every problem at once, next to its field, before anything is sent.
      const card = page.getByTestId("password-card");
      await card.getByLabel("New password", { exact: true }).fill("short");
      await card.getByLabel("Confirm new password").fill("something else");
      await card.getByRole("button", { name: "Change password" }).click();
      await expect(page.locator("#current_password-error")).toHaveText("Enter your current password.");
      await expect(page.locator("#new_password-error")).toHaveText("A password is at least 10 characters long.");
      await expect(page.locator("#new_password_confirmation-error")).toHaveText("The two passwords do not match.");
      // The server's check of the current password.
      await card.getByLabel("Current password").fill("not my password at all");
      await card.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
      await card.getByLabel("Confirm new password").fill(NEW_PASSWORD);
      await card.getByRole("button", { name: "Change password" }).click();
      await expect(page.locator("#current_password-error")).toHaveText("That is not your current password.");
      await screenshot(page, `account-password-error-${width.name}`);
      await card.getByLabel("Current password").fill(PASSWORD);
      await card.getByRole("button", { name: "Change password" }).click();
      await expect(page.getByTestId("password-changed")).toBeVisible();
      await expect(card.getByLabel("Current password")).toHaveValue("");
      await screenshot(page, `account-password-changed-${width.name}`);

      // The other browser is signed out at its next step; this one is not.
      await remaining.page.goto("/account");
      await expect(remaining.page).toHaveURL(/\/signin\?next=%2Faccount/);
      await page.reload();
      await hydrated(page);
      await expect(page.getByTestId("sessions-card").getByTestId("session-row")).toHaveCount(1);

      // There, the old password no longer signs in; the new one does.
      await signIn(remaining.page, alice, PASSWORD);
      await expect(remaining.page.locator("#password-error")).toHaveText("Wrong username or password.");
      await signIn(remaining.page, alice, NEW_PASSWORD);
      await expect(remaining.page).toHaveURL(/\/$/);
      await other.context.close();
      await third.context.close();
    });

    test(`forgot password: a link by mail, used once (${width.name})`, async ({ page }) => {
      const bob = uniqueName("forgot");
      const email = `${bob}@example.test`;
      cli(["user", "add", bob, "--email", email], `${PASSWORD}\n`);

      await page.goto("/signin");
      await hydrated(page);
      await page.getByTestId("forgot-password").click();
      await expect(page).toHaveURL(/\/forgot-password$/);
      await expect(page.getByRole("heading", { name: "Forgot your password?" })).toBeVisible();
      await hydrated(page);
      await screenshot(page, `forgot-password-${width.name}`);
      await axeClean(page, true);
      await page.getByLabel("Username or email address").fill(email.toUpperCase());
      await page.getByRole("button", { name: "Send reset link" }).click();
      await expect(page.getByTestId("reset-requested")).toBeVisible();
      await screenshot(page, `forgot-password-sent-${width.name}`);

      const link = await resetLink(email);
      await page.goto(link);
      // The code leaves the address bar at once (it is in a cookie now).
      await expect(page).toHaveURL(/\/reset-password$/);
      await expect(page.getByTestId("reset-username")).toHaveText(bob);
      // The username is there for password managers only.
      await expect(page.locator("input[autocomplete=username]")).toBeHidden();
      await hydrated(page);
      await page.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
      await page.getByLabel("Confirm new password").fill("not the same one");
      await page.getByRole("button", { name: "Set new password" }).click();
      await expect(page.locator("#password_confirmation-error")).toHaveText("The two passwords do not match.");
      await screenshot(page, `reset-password-${width.name}`);
      await axeClean(page, true);
      await page.getByLabel("Confirm new password").fill(NEW_PASSWORD);
      await page.getByRole("button", { name: "Set new password" }).click();
      await expect(page).toHaveURL(/\/$/);
      await expect(page.getByText(`Signed in as ${bob}`)).toBeAttached();

      // The same link a second time: refused.
      await page.goto(link);
      await expect(page).toHaveURL(/\/reset-password$/);
      await expect(page.getByRole("alert").filter({ hasText: "expired or was already used" })).toBeVisible();
      await expect(page.getByLabel("New password", { exact: true })).toHaveCount(0);
      await screenshot(page, `reset-password-used-${width.name}`);

      // A name nobody has: the same answer.
      await page.goto("/forgot-password");
      await hydrated(page);
      await page.getByLabel("Username or email address").fill(uniqueName("nobody"));
      await page.getByRole("button", { name: "Send reset link" }).click();
      await expect(page.getByTestId("reset-requested")).toBeVisible();
    });

    test(`the sign-in page says how long to wait (${width.name})`, async ({ page }) => {
      await page.goto("/signin");
      await hydrated(page);
      // What the server answers once the address has used its attempts (a 429 with the wait):
      // made up here, since a real lock-out would lock every other spec's sign-ins out too.
      await page.route("**/rpc/sign_in", (route) =>
        route.fulfill({
          status: 429,
          headers: { "content-type": "application/json", "retry-after": "221" },
          body: JSON.stringify({ RateLimited: { retry_after: 221 } }),
        }),
      );
      await page.getByLabel("Username").fill("someone");
      await page.getByLabel("Password", { exact: true }).fill("wrong password here");
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await expect(page.getByRole("alert").filter({ hasText: "Too many attempts" })).toHaveText(
        "Too many attempts: try again in 4 minutes.",
      );
    });

    test(`the code that confirmed the app is said to be just used (${width.name})`, async ({ page }) => {
      const carol = uniqueName("justused");
      await signUp(page, carol);
      await page.goto("/account");
      await hydrated(page);
      await page.getByTestId("totp-begin").click();
      const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
      const used = totp(secret);
      await page.getByTestId("totp-confirm-code").fill(used);
      await page.getByRole("button", { name: "Turn on" }).click();
      await expect(page.getByTestId("recovery-codes")).toBeVisible();
      await page.context().clearCookies();
      await signIn(page, carol, PASSWORD);
      await expect(page).toHaveURL(/\/signin\/two-factor/);
      await hydrated(page);
      await page.getByTestId("second-factor-code").fill(used);
      await page.getByRole("button", { name: "Verify" }).click();
      await expect(page.locator("#code-error")).toContainText("That code was just used; wait for the next one");
      await screenshot(page, `two-factor-code-just-used-${width.name}`);
      await page.getByTestId("second-factor-code").fill(totp(secret, 1));
      await page.getByRole("button", { name: "Verify" }).click();
      await expect(page.getByText(`Signed in as ${carol}`)).toBeAttached();
    });
  });
}
