import { test, expect, Browser, Page } from "./fixtures";
import { cli, createToken, hydrated, PASSWORD, rememberSecret, screenshot, uniqueName } from "./helpers";

// An instance admin connects a directory over SCIM from /admin (docs/scim.md): the credential
// is shown once, works at /scim/v2, deprovisions a leaver (whose token stops at once), and is
// refused once revoked.

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

test("an instance admin makes a SCIM credential that deprovisions a leaver, then revokes it", async ({
  browser,
}) => {
  const admin = uniqueName("scimroot");
  const leaver = uniqueName("leaver");
  const team = uniqueName("scimteam");
  const directory = uniqueName("Okta");
  cli(["user", "add", admin, "--admin"], `${PASSWORD}\n`);
  cli(["user", "add", leaver], `${PASSWORD}\n`);
  cli(["team", "add", team, "--owner", leaver]);
  const { token } = createToken(leaver, team, "nightly job");

  const page = await signIn(browser, admin);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto("/admin");
  await hydrated(page);
  const card = page.getByTestId("scim-settings");
  await card.getByLabel("Directory").fill(directory);
  await card.getByRole("button", { name: "Create SCIM credential" }).click();
  const secret = (await page.getByTestId("new-scim-secret").textContent()) ?? "";
  expect(secret).toMatch(/^pdkscim_[0-9A-Za-z]{38}$/);
  rememberSecret(secret);
  await expect(page.getByTestId("new-scim-panel")).toContainText("/scim/v2");
  // One click copies it, as a token's value.
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.getByTestId("new-scim-panel").getByRole("button", { name: "Copy", exact: true }).click();
  await expect(page.getByTestId("new-scim-panel").getByRole("button", { name: "Copied" })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
  const row = card.locator("tr", { hasText: directory });
  await expect(row).toContainText(`pdkscim_…${secret.slice(-4)}`);
  await expect(row).toContainText(admin);
  await screenshot(page, "admin-scim");

  // The directory finds the leaver and deactivates them: their token stops at once.
  const scim = { Authorization: `Bearer ${secret}` };
  const me = () => page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${token}` } });
  expect((await me()).status()).toBe(200);
  const found = await page.request.get(`/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${leaver}"`)}`, { headers: scim });
  expect(found.status()).toBe(200);
  const id = (await found.json()).Resources[0].id;
  const patched = await page.request.patch(`/scim/v2/Users/${id}`, {
    headers: { ...scim, "Content-Type": "application/scim+json" },
    data: {
      schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
      Operations: [{ op: "replace", path: "active", value: false }],
    },
  });
  expect(patched.status()).toBe(200);
  expect((await me()).status()).toBe(401);

  // Shown once: a reload lists it without the secret; revoked, it is refused.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("new-scim-secret")).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);
  await page.getByRole("button", { name: `Revoke the SCIM credential ${directory}` }).click();
  await expect(card.locator("tr", { hasText: directory })).toHaveCount(0);
  expect((await page.request.get("/scim/v2/Users", { headers: scim })).status()).toBe(401);
  expect(errors).toEqual([]);
});
