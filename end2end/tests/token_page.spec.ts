import { test, expect, Page } from "./fixtures";
import { ageToken, cli, createToken, hydrated, rememberSecret, screenshot, signUp, uniqueName } from "./helpers";

// Issue 46 §2 (docs/tokens.md), at a desktop's width and a phone's (touch): a token's page shows
// the token itself — details, status, the owner's rename form, the actions — above its use; the
// Inactive tab lists tokens that ended, with who ended them and when; the expiry banner counts
// only tokens whose expiry would stop a script. Screenshots go to
// test-results/screens/token-page-<width>-*.png.

const WIDTHS = [
  { name: "desktop", use: { viewport: { width: 1280, height: 800 } } },
  { name: "phone", use: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } },
];

/** Console errors and uncaught exceptions, but for the 422 a refused form answers by design. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().includes("422")) errors.push(m.text());
  });
  return errors;
}

for (const width of WIDTHS) {
  test.describe(width.name, () => {
    test.use(width.use);

    test(`a token's page shows the token and renames it (${width.name})`, async ({ page }) => {
      const errors = watchErrors(page);
      const user = uniqueName("tp");
      const team = uniqueName("tpteam");
      await signUp(page, user);
      cli(["team", "add", team, "--owner", user]);
      const created = createToken(user, team, "nightly export", "--write", "--expires-in-days", "30");

      // The list's description links to the token's page.
      await page.goto("/");
      await hydrated(page);
      await page.locator(`tr[id="${created.id}"]`).getByRole("link", { name: "nightly export", exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`/tokens/${created.id}$`));
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("nightly export");
      const details = page.getByTestId("token-details");
      await expect(details.getByTestId("token-status")).toHaveText("active");
      for (const fact of [team, "read/write", "Personal access token", `pdk_…${created.token.slice(-4)}`, "Any address", user]) {
        await expect(details).toContainText(fact);
      }
      await expect(details.getByRole("button", { name: "Rotate" })).toBeVisible();
      await expect(details.getByRole("button", { name: "Regenerate" })).toBeVisible();
      await expect(details.getByRole("button", { name: "Delete" })).toBeVisible();
      // The usage stays below.
      await expect(page.getByTestId("chart-days")).toBeVisible();
      await screenshot(page, `token-page-${width.name}-details`);

      // A bad description is refused next to the field, in the app's words; a good one saves.
      const field = page.getByLabel("Description", { exact: true });
      await field.fill("   ");
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await expect(page.locator("#token-description-error")).toHaveText(
        "Enter a description, so you know what the token is for.",
      );
      await field.fill("nightly export to S3");
      await page.getByRole("button", { name: "Save", exact: true }).click();
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("nightly export to S3");
      await expect(page.locator("#token-description-error")).toBeHidden();
      await page.reload();
      await hydrated(page);
      await expect(page.getByRole("heading", { level: 1 })).toHaveText("nightly export to S3");

      // Regenerate here: the list's confirmation, then the value once, which works.
      await details.getByRole("button", { name: "Regenerate" }).click();
      const dialog = page.getByRole("dialog");
      await expect(dialog).toContainText("Regenerate “nightly export to S3”?");
      await dialog.getByRole("button", { name: "Regenerate token" }).click();
      const panel = page.getByTestId("new-token-panel");
      await expect(panel).toBeVisible();
      const value = (await page.locator("#new-token-value").textContent())!.trim();
      rememberSecret(value);
      expect((await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${value}` } })).status()).toBe(200);
      // The old value is told it was regenerated.
      const old = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${created.token}` } });
      expect(old.status()).toBe(401);
      expect((await old.json()).error.code).toBe("token_regenerated");
      await screenshot(page, `token-page-${width.name}-regenerated`);

      // Delete here: the page then says who ended it, and offers nothing more.
      await details.getByRole("button", { name: "Delete" }).click();
      await expect(dialog).toContainText("Delete “nightly export to S3”?");
      await dialog.getByRole("button", { name: "Delete token" }).click();
      await expect(details.getByTestId("token-status")).toContainText("deleted");
      await expect(details.getByTestId("ended-note")).toContainText("Deleted by you on");
      await expect(details.getByRole("button")).toHaveCount(0);
      await expect(page.getByLabel("Description", { exact: true })).toHaveCount(0);
      await screenshot(page, `token-page-${width.name}-deleted`);
      expect(errors).toEqual([]);
    });

    test(`the Inactive tab lists ended tokens with who ended them (${width.name})`, async ({ page }) => {
      const errors = watchErrors(page);
      const user = uniqueName("inact");
      const team = uniqueName("inteam");
      await signUp(page, user);
      cli(["team", "add", team, "--owner", user]);
      const running = createToken(user, team, "still running");
      const byOperator = createToken(user, team, "old importer");
      cli(["token", "delete", byOperator.id]);
      createToken(user, team, "retired job");

      // Deleted from the list: gone from Active, on Inactive with who and when.
      await page.goto("/");
      await hydrated(page);
      await expect(page.locator("tr", { hasText: "old importer" })).toHaveCount(0);
      const row = page.locator("tr", { hasText: "retired job" });
      await row.getByRole("button", { name: "Delete retired job" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Delete token" }).click();
      await expect(row).toHaveCount(0);
      await page.getByRole("link", { name: "Inactive" }).click();
      await expect(page).toHaveURL(/\?tab=inactive$/);
      await expect(page.getByRole("link", { name: "Inactive" })).toHaveAttribute("aria-current", "page");
      const retired = page.locator("tr", { hasText: "retired job" });
      await expect(retired.getByTestId("ended-note")).toContainText("Deleted by you on");
      await expect(retired.getByRole("button")).toHaveCount(0);
      const imported = page.locator("tr", { hasText: "old importer" });
      await expect(imported.getByTestId("ended-note")).toContainText("Deleted by the operator on");
      await expect(page.locator("tr", { hasText: "still running" })).toHaveCount(0);
      await screenshot(page, `token-page-${width.name}-inactive`);

      // The server draws the tab without the wasm.
      const html = await (await page.request.get("/?tab=inactive")).text();
      expect(html).toContain("Deleted by you on");
      expect(html).not.toContain(`data-token-id="${running.id}"`);

      // Each links to its own page, read-only.
      await retired.getByRole("link", { name: "retired job", exact: true }).click();
      await expect(page.getByTestId("token-status")).toContainText("deleted");
      await expect(page.getByTestId("token-details").getByRole("button")).toHaveCount(0);
      expect(errors).toEqual([]);
    });

    test(`the expiry banner counts only tokens whose expiry stops a script (${width.name})`, async ({ page }) => {
      const errors = watchErrors(page);
      const user = uniqueName("banner");
      const team = uniqueName("bteam");
      await signUp(page, user);
      cli(["team", "add", team, "--owner", user]);
      // A 7-day token is short-lived by design: no banner, no mark.
      const week = createToken(user, team, "one week job", "--expires-in-days", "7");
      await page.goto("/");
      await hydrated(page);
      await expect(page.locator(`tr[id="${week.id}"]`)).toBeVisible();
      await expect(page.getByTestId("expiry-banner")).toHaveCount(0);
      await expect(page.locator(`tr[id="${week.id}"]`).getByTestId("expiring-badge")).toHaveCount(0);

      // A token that has lived long and ends within 7 days warns, and alone is counted.
      const old = createToken(user, team, "long running sync", "--expires-in-days", "7");
      ageToken(old.id);
      await page.reload();
      await hydrated(page);
      await expect(page.getByTestId("expiry-banner")).toHaveText(/^1 token expires within 7 days/);
      await expect(page.locator(`tr[id="${old.id}"]`).getByTestId("expiring-badge")).toHaveText("expires soon");
      await expect(page.locator(`tr[id="${week.id}"]`).getByTestId("expiring-badge")).toHaveCount(0);
      await screenshot(page, `token-page-${width.name}-banner`);
      expect(errors).toEqual([]);
    });
  });
}
