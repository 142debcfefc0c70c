import { test, expect } from "./fixtures";
import { cli, createToken, hydrated, rememberSecret, screenshot, signUp, uniqueName } from "./helpers";

// A team admin makes a service credential on the team's Services tab (docs/forward-auth.md):
// its secret is shown once and works for introspection; revoking it stops it.
test("a team admin creates, uses and revokes a service credential", async ({ page }) => {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  const user = uniqueName("svcadmin");
  const team = uniqueName("svcteam");
  await signUp(page, user);
  cli(["team", "add", team, "--owner", user]);
  const created = createToken(user, team, "scraper");

  await page.goto(`/teams/${team}`);
  await hydrated(page);
  await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Services" }).click();
  await expect(page).toHaveURL(new RegExp(`/teams/${team}/services$`));
  await expect(page.getByTestId("no-services")).toBeVisible();
  await page.getByLabel("Service name").fill("metrics API");
  await page.getByRole("button", { name: "Create credential" }).click();
  const secret = (await page.getByTestId("new-service-secret").textContent()) ?? "";
  expect(secret).toMatch(/^pdks_[0-9A-Za-z]{38}$/);
  rememberSecret(secret);
  const row = page.locator("tr", { hasText: "metrics API" });
  await expect(row).toContainText(`pdks_…${secret.slice(-4)}`);
  await expect(row).toContainText(user);
  const id = (await row.getAttribute("data-service-id")) ?? "";
  await screenshot(page, "team-services");

  const introspect = () =>
    page.request.post("/oauth/introspect", {
      headers: { Authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}` },
      form: { token: created.token },
    });
  const answer = await introspect();
  expect(answer.status()).toBe(200);
  expect(await answer.json()).toMatchObject({ active: true, sub: user, scope: `team:${team}:read` });

  // Shown once: a reload lists it without the secret.
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("new-service-secret")).toHaveCount(0);
  expect(await page.content()).not.toContain(secret);
  await page.getByRole("button", { name: "Revoke metrics API" }).click();
  await expect(page.getByTestId("no-services")).toBeVisible();
  expect((await introspect()).status()).toBe(401);
  expect(errors).toEqual([]);
});
