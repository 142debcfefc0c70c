import { test, expect, Page } from "./fixtures";
import { axeClean, cli, hydrated, openNewTokenForm, rememberSecret, screenshot, signUp, uniqueName } from "./helpers";

// Issue 47 §3 (docs/permissions.md), at a desktop's width and a phone's: the New token form's
// "Only these permissions", filled in by a template URL, makes a token that can do exactly that;
// the list says what it holds; choosing nothing is a field error. Screenshots go to
// test-results/screens/permissions-<width>-*.png.

const WIDTHS = [
  { name: "desktop", use: { viewport: { width: 1280, height: 800 } } },
  { name: "phone", use: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } },
];

/** The new value, once shown. */
async function newValue(page: Page): Promise<string> {
  const value = page.locator("#new-token-value");
  await expect(value).toBeVisible();
  const text = (await value.textContent())!.trim();
  rememberSecret(text);
  return text;
}

for (const width of WIDTHS) {
  test.describe(width.name, () => {
    test.use(width.use);

    test(`a template URL fills in a fine-grained token (${width.name})`, async ({ page }) => {
      const user = uniqueName("perm");
      const team = uniqueName("perm");
      await signUp(page, user);
      cli(["team", "add", team, "--owner", user]);
      cli(["service", "create", "--team", team, "--name", "Deploy API", "--slug", "deploy", "--scope", "run", "--scope", "read"]);

      const query = new URLSearchParams({
        description: "metrics script",
        team,
        permissions: "questions:read,deploy:run",
        expires: "30",
      });
      await page.goto(`/?new&${query}`);
      await hydrated(page);
      await expect(page.getByLabel("Description")).toHaveValue("metrics script");
      await expect(page.getByLabel("Team", { exact: true })).toHaveValue(team);
      await expect(page.getByLabel("Expiration")).toHaveValue("30");
      await expect(page.getByLabel("Only these permissions")).toBeChecked();
      await expect(page.getByLabel("Questions", { exact: true })).toHaveValue("questions:read");
      await expect(page.getByLabel("Answers", { exact: true })).toHaveValue("");
      await expect(page.getByRole("checkbox", { name: "run" })).toBeChecked();
      await expect(page.getByRole("checkbox", { name: "read", exact: true })).not.toBeChecked();
      // The whole-team part (its write checkbox) is out of the way.
      await expect(page.getByLabel("Enable write access")).toBeHidden();
      await axeClean(page, true);
      await screenshot(page, `permissions-${width.name}-form`);

      // Nothing is made until Generate.
      const before = await page.getByTestId("scope-cell").count();
      expect(before).toBe(0);
      await page.getByRole("button", { name: "Generate token" }).click();
      const value = await newValue(page);
      await expect(page.getByTestId("scope-cell").first()).toHaveText("deploy: run, questions: read");
      await screenshot(page, `permissions-${width.name}-list`);

      const me = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${value}` } });
      expect((await me.json()).token.permissions).toEqual(["deploy:run", "questions:read"]);
      const write = await page.request.post(`/api/v1/teams/${team}/questions`, {
        headers: { Authorization: `Bearer ${value}` },
        data: { title: "T", body: "B" },
      });
      expect(write.status()).toBe(403);
      expect((await write.json()).error.code).toBe("insufficient_permission");
      expect(write.headers()["patdesk-accepted-permissions"]).toBe("questions:write");
      const verify = await page.request.get(`/auth/verify?team=${team}&scope=deploy:run`, {
        headers: { Authorization: `Bearer ${value}` },
      });
      expect(verify.status()).toBe(200);
    });

    test(`a token's page changes its access (${width.name})`, async ({ page }) => {
      const user = uniqueName("permedit");
      const team = uniqueName("permedit");
      await signUp(page, user);
      cli(["team", "add", team, "--owner", user]);
      const created = JSON.parse(
        cli(["token", "create", "--user", user, "--team", team, "--description", "ci job",
          "--permission", "questions:write", "--permission", "answers:read", "--json"]),
      );
      rememberSecret(created.token);
      await page.goto(`/tokens/${created.id}`);
      await hydrated(page);
      await expect(page.getByTestId("token-scope")).toContainText("Only answers: read, questions: write");
      await page.getByTestId("change-access").click();
      const editor = page.getByTestId("access-editor");
      await expect(editor.getByLabel("Questions", { exact: true })).toHaveValue("questions:write");
      await axeClean(page, true);
      await screenshot(page, `permissions-${width.name}-change-access`);
      // Narrowing: questions read-only from now on.
      await editor.getByLabel("Questions", { exact: true }).selectOption("questions:read");
      await editor.getByRole("button", { name: "Save access" }).click();
      await expect(page.getByTestId("token-scope")).toContainText("Only answers: read, questions: read");
      await expect(editor).toHaveCount(0);
      const write = await page.request.post(`/api/v1/teams/${team}/questions`, {
        headers: { Authorization: `Bearer ${created.token}` },
        data: { title: "T", body: "B" },
      });
      expect(write.status()).toBe(403);
      expect((await write.json()).error.code).toBe("insufficient_permission");
    });

    test(`the Services tab defines scopes and the team's settings (${width.name})`, async ({ page }) => {
      const user = uniqueName("permsvc");
      const team = uniqueName("permsvc");
      await signUp(page, user);
      cli(["team", "add", team, "--owner", user]);
      await page.goto(`/teams/${team}/services`);
      await hydrated(page);
      await page.getByLabel("Service name").fill("Deploy API");
      await page.getByLabel("Slug").fill("deploy");
      await page.locator("#service-scopes").fill("run read");
      await page.getByRole("button", { name: "Create credential" }).click();
      rememberSecret(((await page.getByTestId("new-service-secret").textContent()) ?? "").trim());
      const scopes = page.getByLabel("Scopes of Deploy API");
      await expect(scopes).toHaveValue("read run");
      await scopes.fill("run");
      await page.locator("tr", { hasText: "Deploy API" }).getByRole("button", { name: "Save" }).click();
      await expect(page.getByLabel("Scopes of Deploy API")).toHaveValue("run");
      // Whole-team tokens out of the team's services.
      const settings = page.getByTestId("permission-settings");
      await expect(settings.getByLabel("Whole-team tokens open this team's services")).toBeChecked();
      await settings.getByLabel("Whole-team tokens open this team's services").uncheck();
      await settings.getByRole("button", { name: "Save settings" }).click();
      await page.reload();
      await hydrated(page);
      await expect(page.getByTestId("permission-settings").getByLabel("Whole-team tokens open this team's services")).not.toBeChecked();
      await axeClean(page, true);
      await screenshot(page, `permissions-${width.name}-services`);
      const shown = JSON.parse(cli(["service", "list", "--team", team, "--json"]));
      expect(shown[0].slug).toBe("deploy");
      expect(shown[0].scopes).toEqual(["run"]);
      // The New token form offers what the service defines now.
      await page.goto("/?new");
      await hydrated(page);
      await page.getByLabel("Only these permissions").check();
      await expect(page.getByTestId("service-scopes")).toContainText("Deploy API");
      await expect(page.getByRole("checkbox", { name: "run" })).toBeVisible();
      await expect(page.getByRole("checkbox", { name: "read", exact: true })).toHaveCount(0);
    });

    test(`choosing no permission at all is a field error (${width.name})`, async ({ page }) => {
      const user = uniqueName("permerr");
      const team = uniqueName("permerr");
      await signUp(page, user);
      cli(["team", "add", team, "--owner", user]);
      await page.goto("/");
      await hydrated(page);
      await openNewTokenForm(page);
      await page.getByLabel("Description").fill("nothing at all");
      await page.getByLabel("Only these permissions").check();
      await expect(page.getByLabel("Questions", { exact: true })).toHaveValue("questions:read");
      await page.getByLabel("Questions", { exact: true }).selectOption("");
      await page.getByRole("button", { name: "Generate token" }).click();
      await expect(page.locator("#permissions-error")).toContainText("Choose at least one permission");
      await expect(page.locator("#new-token-value")).toHaveCount(0);
      // Whole team again: the usual token.
      await page.getByLabel("Whole team").check();
      await page.getByRole("button", { name: "Generate token" }).click();
      await newValue(page);
      await expect(page.getByTestId("scope-cell").first()).toHaveText("read");
    });
  });
}
