import { test, expect, Page, Locator } from "./fixtures";
import { cli, hydrated, PASSWORD, rememberSecret, screenshot, signUp, uniqueName } from "./helpers";

/** One operation of Swagger UI, by method and path. */
function operation(page: Page, method: string, path: string): Locator {
  return page.locator(`.opblock-${method}`).filter({ has: page.locator(`[data-path="${path}"]`) });
}

/** Expands the operation, presses "Try it out", lets `fill` set inputs, presses "Execute". */
async function execute(op: Locator, fill?: (op: Locator) => Promise<void>): Promise<Locator> {
  await op.locator(".opblock-summary").click();
  await op.getByRole("button", { name: "Try it out" }).click();
  if (fill) await fill(op);
  await op.getByRole("button", { name: "Execute" }).click();
  const response = op.locator(".live-responses-table");
  await expect(response).toBeVisible();
  return response;
}

/** Chooses the team and waits until the explorer holds its new token; returns the token id. */
async function chooseTeam(page: Page, team: string): Promise<string> {
  await page.getByLabel("Team", { exact: true }).selectOption(team);
  const status = page.getByTestId("explorer-status");
  await expect(status).toContainText(`for ${team}`);
  await expect(status).toContainText("Authorized with token tok_");
  const id = (await status.textContent())!.match(/tok_[0-9A-Za-z]{16}/)![0];
  await expect(page.locator(`[data-path="/api/v1/me"]`)).toBeVisible();
  return id;
}

/** The only team is picked by itself: waits until the explorer holds its token; returns its id. */
async function onlyTeamPicked(page: Page, team: string): Promise<string> {
  await expect(page.getByLabel("Team", { exact: true })).toHaveValue(team);
  const status = page.getByTestId("explorer-status");
  await expect(status).toContainText(`for ${team}`);
  await expect(status).toContainText("Authorized with token tok_");
  const id = (await status.textContent())!.match(/tok_[0-9A-Za-z]{16}/)![0];
  await expect(page.locator(`[data-path="/api/v1/me"]`)).toBeVisible();
  return id;
}

async function explorerRows(page: Page, team: string): Promise<Locator> {
  await page.goto("/");
  await hydrated(page);
  return page.locator("tr", { hasText: `API explorer (${team})` });
}

test("the explorer mints its own token, and Try it out works at once", async ({ page }) => {
  // Three sign-ins (each a deliberately slow password hash) and a dozen Swagger UI round
  // trips: 27–32 s on the 2-core CI machine, past the 30 s default.
  test.setTimeout(90_000);
  const requested: string[] = [];
  page.on("request", (request) => requested.push(request.url()));
  // Read as they arrive: a body is gone once the page navigates away.
  type Minted = { status: number; cacheControl?: string; token: string };
  const minted: Promise<Minted>[] = [];
  page.on("response", (response) => {
    if (response.url().endsWith("/rpc/open_explorer")) {
      minted.push(
        response.json().then((body) => ({
          status: response.status(),
          cacheControl: response.headers()["cache-control"],
          token: body.token,
        })),
      );
    }
  });

  const writer = uniqueName("exw");
  const reader = uniqueName("exr");
  const team = uniqueName("exteam");
  await signUp(page, reader);
  await page.context().clearCookies();
  await signUp(page, writer);
  cli(["team", "add", team, "--owner", writer, "--name", "Explorers"]);
  cli(["team", "member", "add", team, reader, "--role", "reader"]);

  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "API explorer" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "API explorer" })).toBeVisible();
  await hydrated(page);
  // One team: picked at once, its token made without a choice (the hint said it would be).
  await expect(page.getByTestId("explorer-hint")).toHaveText(
    "Choosing a team creates a 24-hour token for it, listed on your token page.",
  );
  const firstId = await onlyTeamPicked(page, team);
  await expect(page.getByTestId("explorer-status")).toContainText("read and write");

  // GET /api/v1/me answers with the user and the explorer's own token.
  const me = await execute(operation(page, "get", "/api/v1/me"));
  await expect(me.locator("tbody .response-col_status").first()).toHaveText("200");
  await expect(me).toContainText(`"username": "${writer}"`);
  await expect(me).toContainText(`"id": "${firstId}"`);
  await expect(me).toContainText(`"description": "API explorer (${team})"`);
  await screenshot(page, "explorer-me");

  // A writer creates a question.
  const create = await execute(operation(page, "post", "/api/v1/teams/{team}/questions"), async (op) => {
    await op.locator('[data-param-name="team"] input').fill(team);
    await op.locator(".body-param__text").fill(JSON.stringify({ title: "Asked from the explorer", body: "Does it work?" }));
  });
  await expect(create.locator("tbody .response-col_status").first()).toHaveText("201");
  await expect(create).toContainText("Asked from the explorer");
  await screenshot(page, "explorer-question-created");

  // Exactly one explorer token for the team on the token page, with its badge.
  let rows = await explorerRows(page, team);
  await expect(rows).toHaveCount(1);
  await expect(rows).toHaveAttribute("data-token-id", firstId);
  await expect(rows.locator(".badge")).toHaveText("API explorer");
  await screenshot(page, "explorer-token-listed");

  // Reopening (the choice is remembered) replaces it: still one, with a new id.
  await page.goto("/explorer");
  await hydrated(page);
  await expect(page.getByLabel("Team", { exact: true })).toHaveValue(team);
  const status = page.getByTestId("explorer-status");
  await expect(status).toContainText("Authorized with token tok_");
  const secondId = (await status.textContent())!.match(/tok_[0-9A-Za-z]{16}/)![0];
  expect(secondId).not.toBe(firstId);
  await screenshot(page, "explorer");
  rows = await explorerRows(page, team);
  await expect(rows).toHaveCount(1);
  await expect(rows).toHaveAttribute("data-token-id", secondId);

  // Deleting it there stops it in the explorer at once: the next call is a 401.
  await page.goto("/explorer");
  await hydrated(page);
  await expect(status).toContainText("Authorized with token tok_");
  const thirdId = (await status.textContent())!.match(/tok_[0-9A-Za-z]{16}/)![0];
  const tokensPage = await page.context().newPage();
  await tokensPage.goto("/");
  await hydrated(tokensPage);
  await tokensPage.getByRole("button", { name: `Delete API explorer (${team})` }).click();
  await tokensPage.getByRole("dialog").getByRole("button", { name: "Delete token" }).click();
  await expect(tokensPage.locator(`tr[data-token-id="${thirdId}"]`)).toHaveCount(0);
  await tokensPage.close();
  const refused = await execute(operation(page, "get", "/api/v1/me"));
  await expect(refused.locator("tbody .response-col_status").first()).toHaveText("401");
  await expect(refused).toContainText("token_revoked");

  // Creating each explorer token is in the activity log.
  await page.goto("/activity");
  const created = page.locator("table.activity tbody tr[data-kind=token_created]", { hasText: `API explorer (${team})` });
  await expect(created).toHaveCount(3);

  // A reader's explorer token is read-only: writing is refused with 403 read_only_token.
  await page.context().clearCookies();
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Username").fill(reader);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByText(`Signed in as ${reader}`)).toBeVisible();
  await page.goto("/explorer");
  await hydrated(page);
  await onlyTeamPicked(page, team);
  await expect(status).toContainText("read-only");
  const denied = await execute(operation(page, "post", "/api/v1/teams/{team}/questions"), async (op) => {
    await op.locator('[data-param-name="team"] input').fill(team);
    await op.locator(".body-param__text").fill(JSON.stringify({ title: "Not allowed", body: "Readers only read." }));
  });
  await expect(denied.locator("tbody .response-col_status").first()).toHaveText("403");
  await expect(denied).toContainText("read_only_token");
  await screenshot(page, "explorer-reader-refused");

  // Everything the explorer pages asked for came from this server.
  expect(requested.length).toBeGreaterThan(0);
  const elsewhere = requested.filter((url) => new URL(url).hostname !== "127.0.0.1");
  expect(elsewhere).toEqual([]);
  expect(requested.some((url) => url.includes("/vendor/swagger-ui/swagger-ui-bundle.js"))).toBe(true);

  // Each minted value came with no-store, and goes to the leak check at the end of the run.
  expect(minted.length).toBeGreaterThanOrEqual(4);
  for (const response of await Promise.all(minted)) {
    expect(response.status).toBe(200);
    expect(response.cacheControl).toBe("no-store");
    rememberSecret(response.token);
  }
});

test("signed-out visitors are sent to sign in", async ({ page }) => {
  await page.goto("/explorer");
  await expect(page).toHaveURL(/\/signin\?next=%2Fexplorer$/);
});

// Issue 46: before a team is picked the page says what picking one makes; with one team it is
// picked at once. Both widths.
for (const width of [
  { name: "desktop", use: { viewport: { width: 1280, height: 800 } } },
  { name: "phone", use: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } },
]) {
  test.describe(width.name, () => {
    test.use(width.use);

    test(`the explorer says what choosing a team makes, and picks the only one (${width.name})`, async ({ page }) => {
      const user = uniqueName("exhint");
      const first = uniqueName("exa");
      const second = uniqueName("exb");
      const owner = uniqueName("exown");
      await signUp(page, user);
      cli(["user", "add", owner], `${PASSWORD}\n`);
      cli(["team", "add", first, "--owner", owner]);
      cli(["team", "member", "add", first, user, "--role", "reader"]);
      cli(["team", "add", second, "--owner", user]);

      // Two teams: nothing is made until one is chosen, and the hint says what will be.
      await page.goto("/explorer");
      await hydrated(page);
      const hint = page.getByTestId("explorer-hint");
      await expect(hint).toHaveText("Choosing a team creates a 24-hour token for it, listed on your token page.");
      await expect(page.getByLabel("Team", { exact: true })).toHaveValue("");
      await expect(page.getByTestId("explorer-status")).toContainText("Choose a team");
      await screenshot(page, `explorer-hint-${width.name}`);
      await chooseTeam(page, second);

      // One team left: picked by itself on the next visit of a browser that remembers nothing.
      cli(["team", "member", "remove", first, user]);
      await page.evaluate(() => localStorage.clear());
      await page.goto("/explorer");
      await hydrated(page);
      await onlyTeamPicked(page, second);
      await screenshot(page, `explorer-single-team-${width.name}`);
    });
  });
}
