import { test, expect } from "./fixtures";
import { cli, hydrated, PASSWORD, screenshot, signUp, uniqueName } from "./helpers";

test("sign up, sign out, sign in, and manage a team's members", async ({ page }) => {
  const alice = uniqueName("alice");
  const bob = uniqueName("bob");
  const slug = uniqueName("team");

  // A private page sends a signed-out visitor to sign in.
  await page.goto("/teams");
  await expect(page).toHaveURL(/\/signin\?next=%2Fteams$/);

  await page.goto("/signup");
  await hydrated(page);
  await screenshot(page, "signup-empty");
  // Errors appear next to the field they are about.
  await page.getByLabel("Username").fill(alice);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByLabel("Confirm password").fill("something else entirely");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.locator("#password_confirmation-error")).toHaveText("The two passwords do not match.");
  await screenshot(page, "signup-error");
  await page.getByLabel("Confirm password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText(`Signed in as ${alice}`)).toBeVisible();

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/signin/);
  // The header's link (while the sign-in page's chunk loads, the page before may still show its
  // own "Sign in" link).
  await expect(page.getByRole("banner").getByRole("link", { name: "Sign in" })).toBeVisible();

  // Sign in, from a private page, and land back on it.
  await page.goto("/teams");
  await hydrated(page);
  await page.getByLabel("Username").fill(alice);
  await page.getByLabel("Password").fill("not the password at all");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.locator("#password-error")).toHaveText("Wrong username or password.");
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(/\/teams$/);
  await expect(page.getByText(`Signed in as ${alice}`)).toBeVisible();

  // Create a team: a slug that is taken first (the server's answer, next to the field).
  const taken = uniqueName("taken");
  cli(["user", "add", `${taken}-owner`], `${PASSWORD}\n`);
  cli(["team", "add", taken, "--owner", `${taken}-owner`]);
  await hydrated(page);
  await page.getByLabel("Slug").fill(taken);
  await page.getByRole("button", { name: "Create team" }).click();
  await expect(page.locator("#slug-error")).toContainText("already exists");
  await screenshot(page, "team-create-error");
  await page.getByLabel("Slug").fill(slug);
  await page.getByLabel("Display name").fill("Platform team");
  await page.getByRole("button", { name: "Create team" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${slug}$`));
  await expect(page.getByRole("heading", { level: 1, name: "Platform team" })).toBeVisible();

  // Bob comes from the CLI, as an operator would add him.
  cli(["user", "add", bob], `${PASSWORD}\n`);
  await hydrated(page);
  await page.getByLabel("Username").fill("no-such-user");
  await page.getByRole("button", { name: "Add member" }).click();
  await expect(page.locator("#new-username-error")).toContainText("There is no user named no-such-user");
  await page.getByLabel("Username").fill(bob);
  await page.locator("#new-role").selectOption("reader");
  await page.getByRole("button", { name: "Add member" }).click();
  const bobRow = page.locator(`tr[data-member="${bob}"]`);
  await expect(bobRow.locator(".role")).toHaveText("reader");
  await screenshot(page, "team-with-reader");

  await bobRow.getByLabel(`Role of ${bob}`).selectOption("writer");
  await bobRow.getByRole("button", { name: "Change role" }).click();
  await expect(bobRow.locator(".role")).toHaveText("writer");

  // The last admin cannot demote themself; the message says why.
  const aliceRow = page.locator(`tr[data-member="${alice}"]`);
  await aliceRow.getByLabel(`Role of ${alice}`).selectOption("reader");
  await aliceRow.getByRole("button", { name: "Change role" }).click();
  await expect(page.locator(".form-error").first()).toContainText("last admin");

  await bobRow.getByRole("button", { name: `Remove ${bob}` }).click();
  await expect(bobRow).toHaveCount(0);
  await screenshot(page, "team-after-remove");

  await page.goto("/teams");
  await expect(page.getByRole("link", { name: "Platform team" })).toBeVisible();
  await screenshot(page, "teams-list");
});

test("sign-in works before the wasm loads", async ({ browser }) => {
  const carol = uniqueName("carol");
  cli(["user", "add", carol], `${PASSWORD}\n`);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto("/signin");
  await page.getByLabel("Username").fill(carol);
  await page.getByLabel("Password").fill("wrong password here");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.locator("#password-error")).toHaveText("Wrong username or password.");
  await page.getByLabel("Username").fill(carol);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText(`Signed in as ${carol}`)).toBeVisible();
  // The token page is complete without JavaScript too.
  await expect(page.getByTestId("no-tokens")).toBeVisible();
  await context.close();
});
