import { test, expect } from "./fixtures";
import { cli, createToken, hydrated, screenshot, signUp, uniqueName } from "./helpers";

// Someone finds a token and reports it (docs/leaks.md); its owner sees it revoked, when, and
// where it was found.
test("after a leak report the owner's page shows the token revoked as leaked", async ({ page }) => {
  const owner = uniqueName("leaky");
  const team = uniqueName("leakteam");
  await signUp(page, owner);
  cli(["team", "add", team, "--owner", owner]);
  const created = createToken(owner, team, "ci deploy key");

  // The report needs no token; the answer says nothing of what was live.
  const source = "https://git.example.test/acme/app/commit/1a2b3c";
  const answer = await page.request.post("/api/v1/credentials/revoke", {
    data: { credentials: [created.token, "pdk_not_a_token"], source },
  });
  expect(answer.status()).toBe(202);
  expect(await answer.json()).toEqual({ received: 2, malformed: 1 });
  await expect
    .poll(async () => (await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${created.token}` } })).status())
    .toBe(401);

  await page.goto("/?tab=inactive");
  await hydrated(page);
  const row = page.locator("tr", { hasText: "ci deploy key" });
  await expect(row.getByTestId("ended-note")).toContainText("Revoked: reported as leaked on");
  await expect(row.getByTestId("ended-note")).toContainText(source);
  await expect(row.getByRole("button")).toHaveCount(0);
  await screenshot(page, "token-reported-leaked");
  await page.goto("/activity");
  const entry = page.locator("tr[data-kind=token_reported_leaked]");
  await expect(entry).toContainText("leak report");
  await expect(entry).toContainText("git.example.test");
});
