import { test, expect } from "./fixtures";
import { PASSWORD, axeClean, cli, hydrated, openNewTokenForm, rememberSecret, screenshot, signUp, uniqueName } from "./helpers";

// A token's usage page (docs/usage.md), in the browser: calls made with a new token show up on
// its page as a chart drawn by the server, with the numbers in a table, the refusals by code and
// the addresses; "Limit this token to these addresses" opens the allow-list editor filled with
// them; the rate limit is set on the New token form and changed on the page; the team's Tokens
// tab counts calls over 7 days and sorts by them. Someone else's token page is a 404.

test("a token's page shows its calls, refusals and addresses, and limits it", async ({ page, browser }) => {
  test.setTimeout(180_000);
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    // The refused limit below is a 422 by design; anything else logged as an error is not.
    if (m.type() === "error" && !m.text().includes("422")) errors.push(m.text());
  });
  const user = uniqueName("usage");
  const team = uniqueName("usageteam");
  await signUp(page, user);
  cli(["team", "add", team, "--owner", user]);
  await page.goto("/");
  await hydrated(page);
  await openNewTokenForm(page);

  // Created with a rate limit on the New token form: the row says it.
  await page.getByLabel("Description").fill("nightly report");
  await page.getByLabel("Team", { exact: true }).selectOption(team);
  await page.getByLabel("Rate limit").fill("1000");
  await page.getByRole("button", { name: "Generate token" }).click();
  await expect(page.getByTestId("new-token-panel")).toBeVisible();
  const value = (await page.locator("#new-token-value").textContent())!.trim();
  rememberSecret(value);
  const row = page.locator("tr", { hasText: "nightly report" });
  await expect(row.getByTestId("rate-limit-badge")).toHaveText("≤ 1000/min");

  // Calls: six reads, two writes refused (the token is read-only), one to another team.
  const auth = { Authorization: `Bearer ${value}` };
  for (let i = 0; i < 6; i++) {
    const response = await page.request.get("/api/v1/me", { headers: auth });
    expect(response.status()).toBe(200);
    expect(response.headers()["ratelimit-limit"]).toBe("1000");
  }
  for (let i = 0; i < 2; i++) {
    const response = await page.request.post(`/api/v1/teams/${team}/questions`, {
      headers: auth,
      data: { title: "t", body: "b" },
    });
    expect(response.status()).toBe(403);
  }
  expect((await page.request.get("/api/v1/teams/elsewhere/questions", { headers: auth })).status()).toBe(403);

  // The description links to the token's page (a lazy route, navigated to in place).
  await row.getByRole("link", { name: "nightly report", exact: true }).click();
  await expect(page).toHaveURL(/\/tokens\/tok_/);
  const url = page.url();
  await expect(page.getByRole("heading", { level: 1 })).toHaveText("nightly report");
  // Usage is written in batches every few seconds: reload until it is there.
  await expect(async () => {
    await page.goto(url);
    await expect(page.getByTestId("usage-totals")).toContainText("6 accepted", { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await hydrated(page);
  await expect(page.getByTestId("usage-totals")).toContainText("3 refused");
  // The chart is an image with a summary; its numbers are in a table.
  await expect(page.getByTestId("chart-days").getByRole("img")).toHaveAttribute(
    "aria-label",
    "Calls per day, last 30 days: 6 accepted, 3 refused.",
  );
  await expect(page.getByTestId("chart-days").locator("rect.bar-refused")).toHaveCount(30);
  await page.getByText("Show the numbers").first().click();
  const today = new Date().toISOString().slice(0, 10);
  await expect(page.getByRole("row", { name: `${today} 6 3` }).first()).toBeVisible();
  await expect(page.getByTestId("refusals").locator("tr[data-code=read_only_token]")).toContainText("2");
  await expect(page.getByTestId("refusals").locator("tr[data-code=wrong_team]")).toContainText("1");
  await expect(page.getByTestId("addresses").locator("tr[data-ip='127.0.0.1']")).toContainText("9");
  await screenshot(page, "token-usage");
  await axeClean(page);

  // The rate limit, changed on the page.
  await expect(page.getByTestId("rate-limit")).toHaveText("1000 calls per minute.");
  await page.getByLabel("Calls per minute").fill("0");
  await page.getByRole("button", { name: "Save limit" }).click();
  await expect(page.locator("#rate-limit-error")).toContainText("from 1 to 100000");
  await page.getByLabel("Calls per minute").fill("50");
  await page.getByRole("button", { name: "Save limit" }).click();
  await expect(page.getByTestId("rate-limit")).toHaveText("50 calls per minute.");

  // Limit it to the addresses seen: the editor opens filled with them, to review and save.
  await page.getByRole("link", { name: "Limit this token to these addresses" }).click();
  const editor = page.getByLabel("Allowed IP addresses", { exact: true });
  await expect(editor).toHaveValue("127.0.0.1");
  await screenshot(page, "token-usage-suggested-allow-list");
  // The Addresses card's Save (the Details card above has its own, for the description).
  await page.getByRole("region", { name: "Addresses" }).getByRole("button", { name: "Save", exact: true }).click();
  await expect(page.getByText("It may be used only from 127.0.0.1/32.")).toBeVisible();
  // Limited to them now: nothing left to suggest.
  await expect(page.getByRole("link", { name: "Limit this token to these addresses" })).toHaveCount(0);
  expect((await page.request.get("/api/v1/me", { headers: auth })).status()).toBe(200);

  // At phone width: nothing overflows the page sideways.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(url);
  await hydrated(page);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await screenshot(page, "token-usage-phone");
  await page.setViewportSize({ width: 1280, height: 800 });

  // The team's Tokens tab counts the calls of the last 7 days and sorts by them.
  const { id: quietId } = JSON.parse(
    cli(["token", "create", "--user", user, "--team", team, "--description", "quiet one", "--json"]),
  );
  const busy = page.locator("tr", { hasText: "nightly report" });
  await expect(async () => {
    await page.goto(`/teams/${team}/tokens`);
    await expect(busy.getByTestId("calls-7d")).toContainText("10", { timeout: 1000 });
  }).toPass({ timeout: 30_000 });
  await hydrated(page);
  await expect(page.locator(`tr[data-token-id=${quietId}]`).getByTestId("calls-7d")).toHaveText("0");
  // Newest first by default: the quiet one is on top; by calls, the busy one.
  await expect(page.locator("tbody tr").first()).toContainText("quiet one");
  await page.getByRole("link", { name: "Calls, 7 days" }).click();
  await expect(page).toHaveURL(/sort=calls/);
  await expect(page.locator("tbody tr").first()).toContainText("nightly report");
  await expect(page.getByRole("columnheader", { name: "Calls, 7 days" })).toHaveAttribute("aria-sort", "descending");
  await screenshot(page, "team-tokens-calls");
  expect(errors).toEqual([]);

  // Someone else: no such page.
  const other = await browser.newContext();
  const stranger = await other.newPage();
  const name = uniqueName("stranger");
  await signUp(stranger, name);
  const response = await stranger.goto(url);
  expect(response!.status()).toBe(404);
  await expect(stranger.getByRole("alert")).toContainText("No such token");
  await other.close();
  void PASSWORD;
});
