import { test, expect, Page } from "./fixtures";
import { ageToken, cli, createToken, hydrated, screenshot, signUp, uniqueName } from "./helpers";

// Notices in the app (docs/notifications.md): the bell's unread count, the list, a notice that
// links to its token's page, marking read, and the account page that sets what is mailed.

async function unreadCount(page: Page) {
  return page.getByTestId("notices-menu").getByTestId("unread-count");
}

test("the bell counts unread notices and each links to its token", async ({ page }) => {
  const errors: string[] = [];
  page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
  page.on("pageerror", (e) => errors.push(e.message));
  const user = uniqueName("bell");
  const team = uniqueName("bellteam");
  await signUp(page, user);
  cli(["team", "add", team, "--owner", user]);
  const created = createToken(user, team, "nightly export", "--expires-in-days", "7");
  // Made long ago: a token that only ever lives 7 days is not reminded of its expiry.
  ageToken(created.id);

  // "A new token" at once, the 7-day reminder at the next sweep (every second in these tests).
  await expect(async () => {
    await page.goto("/");
    await hydrated(page);
    await expect(await unreadCount(page)).toHaveText("2", { timeout: 1_000 });
  }).toPass();
  // The token page marks the expiring token, with its date.
  const row = page.locator(`tr[id="${created.id}"]`);
  await expect(row.getByTestId("expiring-badge")).toHaveText("expires soon");
  await expect(page.getByTestId("expiry-banner")).toContainText("1 token expires within 7 days");

  await page.getByTestId("notices-menu").locator("summary").click();
  const menu = page.getByTestId("notices-menu");
  const reminder = menu.getByRole("link", { name: 'Your token "nightly export" expires within 7 days' });
  await expect(reminder).toBeVisible();
  await expect(menu.getByRole("link", { name: 'A new token "nightly export" was created on your account' })).toBeVisible();
  await screenshot(page, "notifications-menu");

  // Following a notice marks it read and lands on the token's page.
  await reminder.click();
  await expect(page).toHaveURL(new RegExp(`/tokens/${created.id}$`));
  await expect(page.getByRole("heading", { level: 1, name: "nightly export" })).toBeVisible();
  await expect(await unreadCount(page)).toHaveText("1");
  await screenshot(page, "notice-followed-to-token");

  // The Notifications page: everything, and Mark all read.
  await page.goto("/notifications");
  await hydrated(page);
  await expect(page.getByRole("heading", { level: 1, name: "Notifications" })).toBeVisible();
  const notices = page.locator(".notice-list .notice-item");
  await expect(notices).toHaveCount(2);
  await expect(notices.first()).toContainText(`pdk_…${created.token.slice(-4)}`);
  await screenshot(page, "notifications-page");
  await page.getByRole("button", { name: "Mark all read" }).click();
  await expect(page.locator(".notice-list .notice-item.unread")).toHaveCount(0);
  await page.reload();
  await hydrated(page);
  await expect(await unreadCount(page)).toHaveCount(0);
  expect(errors).toEqual([]);
});

test("the account page sets the email address and what is mailed", async ({ page }) => {
  const user = uniqueName("mailer");
  await signUp(page, user);
  await page.getByRole("link", { name: new RegExp(`Signed in as ${user}`) }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Account" })).toBeVisible();
  await hydrated(page);
  // The e2e server mails through a local SMTP sink (playwright.config.ts): no warning that
  // notices stay in the app.
  await expect(page.getByText("no mail server configured")).toHaveCount(0);

  // A malformed address: a field error, nothing saved.
  // (The browser's own check lets this one through; the server's does not.)
  await page.getByLabel("Email address").fill("alice@localhost");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#email-error")).toContainText("Enter an email address like name@example.com.");

  const email = `${user}@example.test`;
  await page.getByLabel("Email address").fill(email);
  await page.getByLabel("a new token is created on my account").uncheck();
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("account-saved")).toBeVisible();
  await screenshot(page, "account-page");

  await page.reload();
  await hydrated(page);
  await expect(page.getByLabel("Email address")).toHaveValue(email);
  await expect(page.getByLabel("a new token is created on my account")).not.toBeChecked();
  await expect(page.getByLabel("a token is used from a new IP address", { exact: false })).toBeChecked();
});
