import { test, expect } from "./fixtures";
import { hydrated, screenshot, signUp, uniqueName } from "./helpers";

test.describe("the app shell", () => {
  test("renders on the server and hydrates in the browser", async ({ page }) => {
    await signUp(page, uniqueName("shell"));
    await page.goto("/");
    await expect(page).toHaveTitle("Access tokens · patdesk");
    const nav = page.getByRole("navigation", { name: "Main" });
    for (const name of ["Tokens", "Teams", "Activity", "API explorer"]) {
      await expect(nav.getByRole("link", { name })).toBeVisible();
    }
    // The wasm sets this marker once hydrate_body has run.
    await hydrated(page);

    // Only the wasm handles this button: it proves hydration, not just rendering.
    const welcome = page.getByRole("status", { name: "Welcome" });
    await expect(welcome).toBeVisible();
    await screenshot(page, "shell-home");
    await welcome.getByRole("button", { name: "Dismiss" }).click();
    await expect(welcome).toHaveCount(0);

    // Client-side navigation after hydration.
    await nav.getByRole("link", { name: "Teams" }).click();
    await expect(page).toHaveURL(/\/teams$/);
    await expect(page.getByRole("heading", { level: 1, name: "Teams" })).toBeVisible();
    await expect(nav.getByRole("link", { name: "Teams" })).toHaveAttribute("aria-current", "page");
  });

  test("is complete without JavaScript", async ({ browser }) => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto("/signin");
    await expect(page.getByRole("heading", { level: 1, name: "Sign in to patdesk" })).toBeVisible();
    await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
    await expect(page.locator("body[data-hydrated]")).toHaveCount(0);
    await context.close();
  });

  test("health endpoints answer", async ({ request }) => {
    const health = await request.get("/healthz");
    expect(health.status()).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
    const ready = await request.get("/readyz");
    expect(ready.status()).toBe(200);
    expect((await ready.json()).database).toBe("ok");
  });

  test("unknown pages get a 404 page", async ({ page }) => {
    const response = await page.goto("/signin/definitely-not-here");
    expect(response?.status()).toBe(404);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  });
});
