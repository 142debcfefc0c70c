import { expect, Page, test } from "./fixtures";
import { baseURL, issuer } from "../playwright.config";
import { PASSWORD, cli, hydrated, uniqueName } from "./helpers";

// Targets that leave the site for a browser, or for a router that decodes the path again
// (common/src/redirect.rs): each must end on this origin.
const hostile = "/.//evil.example/x";

/** Every request the page makes to evil.example, each refused (nothing leaves this machine). */
async function watchEvil(page: Page): Promise<string[]> {
  const asked: string[] = [];
  // By host: this site's own URLs carry the hostile target in their query or path.
  await page.route((url) => url.hostname.endsWith("evil.example"), (route) => {
    asked.push(route.request().url());
    return route.abort();
  });
  return asked;
}

function expectThisOrigin(page: Page) {
  expect(new URL(page.url()).origin).toBe(new URL(baseURL).origin);
}

// The provider's pages link a stylesheet on a CDN: nothing outside this machine is contacted.
test.beforeEach(async ({ page }) => {
  await page.route(/^https:\/\/cdn\.jsdelivr\.net\//, (route) => route.abort());
});

test("signing in with next=/.//evil.example/x lands on this origin", async ({ page }) => {
  const asked = await watchEvil(page);
  const user = uniqueName("redir");
  cli(["user", "add", user], `${PASSWORD}\n`);
  await page.goto(`/signin?next=${encodeURIComponent(hostile)}`);
  await hydrated(page);
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText(`Signed in as ${user}`)).toBeVisible();
  expectThisOrigin(page);
  expect(new URL(page.url()).pathname).toBe("/");
  expect(asked).toEqual([]);
});

test("single sign-on with next=/.//evil.example/x lands on this origin", async ({ page, request }) => {
  const asked = await watchEvil(page);
  const sub = uniqueName("sub");
  const name = uniqueName("redirsso");
  const set = await request.put(`${issuer}/users/${sub}`, {
    data: { preferred_username: name, email: `${name}@example.com`, email_verified: true },
  });
  expect(set.status()).toBe(204);
  await page.goto(`/auth/oidc/start?next=${encodeURIComponent(hostile)}`);
  await expect(page.getByRole("heading", { name: "Authorize Client" })).toBeVisible();
  await page.getByPlaceholder("sub").fill(sub);
  await page.getByRole("button", { name: "Authorize" }).click();
  await expect(page.getByText(`Signed in as ${name}`)).toBeVisible();
  expectThisOrigin(page);
  expect(new URL(page.url()).pathname).toBe("/");
  expect(asked).toEqual([]);
});

test("a page asked for as //evil.example/x with a form error in the URL stays on this origin", async ({ page }) => {
  const asked = await watchEvil(page);
  // The base's own origin, then a path that starts with two slashes (not a protocol-relative URL).
  await page.goto(`${baseURL}//evil.example/x?__err=a`);
  expectThisOrigin(page);
  expect(asked).toEqual([]);
});
