import { test, expect } from "./fixtures";
import { ciIssuer } from "../playwright.config";
import { axeClean, cli, hydrated, rememberSecret, screenshot, signUp, uniqueName } from "./helpers";

// Issue 48 (docs/service-accounts.md), at a desktop's width and a phone's: a team admin creates a
// service account and a trust policy on the team's Service accounts tab; a CI job's identity
// token (signed by scripts/ci-issuer.py with PyJWT) is exchanged for a short-lived token, whose
// provenance the tab then shows. A policy that names no repository is a field error.
// Screenshots go to test-results/screens/service-accounts-<width>-*.png.

const WIDTHS = [
  { name: "desktop", use: { viewport: { width: 1280, height: 800 } } },
  { name: "phone", use: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } },
];

for (const width of WIDTHS) {
  test.describe(width.name, () => {
    test.use(width.use);

    test(`a team admin trusts a CI job and sees where its token came from (${width.name})`, async ({ page }) => {
      const user = uniqueName("saadmin");
      const team = uniqueName("sateam");
      // A repository of this test's own, so that no other test's policy matches its tokens.
      const repository = `acme/${team}`;
      await signUp(page, user);
      cli(["team", "add", team, "--owner", user]);

      await page.goto(`/teams/${team}`);
      await hydrated(page);
      await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Service accounts" }).click();
      await expect(page).toHaveURL(new RegExp(`/teams/${team}/service-accounts$`));
      await hydrated(page);
      await expect(page.getByTestId("no-service-accounts")).toBeVisible();

      await page.getByLabel("Name", { exact: true }).fill("ci-deploy");
      await page.getByLabel("Description (optional)").fill("Deploys from GitHub Actions");
      await page.getByLabel("Role").selectOption("writer");
      await page.getByRole("button", { name: "Create service account" }).click();
      const row = page.locator("tr[data-account=ci-deploy]");
      await expect(row).toContainText("writer");
      await expect(page.getByTestId("no-trust-policies")).toBeVisible();

      // A policy that would trust any repository at the issuer is refused, next to its field.
      const policy = page.getByTestId("new-trust-policy");
      await policy.getByLabel("Issuer").fill(ciIssuer);
      await policy.getByLabel("Audience (optional)").fill("patdesk-e2e");
      await policy.getByLabel("Conditions").fill("ref=refs/heads/main");
      await policy.getByLabel("Permissions").fill("questions:write");
      await policy.getByRole("button", { name: "Add trust policy" }).click();
      await expect(page.locator("#policy-conditions-error")).toContainText("Name what may exchange tokens");

      await policy.getByLabel("Conditions").fill(`repository=${repository}\nref=refs/heads/main`);
      await policy.getByLabel("Lifetime in minutes").fill("10");
      await policy.getByRole("button", { name: "Add trust policy" }).click();
      const policyRow = page.locator("table.trust-policies tbody tr");
      await expect(policyRow).toHaveCount(1);
      await expect(policyRow).toContainText(`repository=${repository}`);
      await expect(policyRow).toContainText("questions:write for 10 min");
      await axeClean(page, true);
      await screenshot(page, `service-accounts-${width.name}-policy`);

      // The CI job: its identity token from the issuer, exchanged for a patdesk token.
      const now = Math.floor(Date.now() / 1000);
      const signed = await page.request.post(`${ciIssuer}/sign`, {
        data: {
          key: "rsa",
          claims: {
            aud: "patdesk-e2e",
            sub: `repo:${repository}:ref:refs/heads/main`,
            repository,
            ref: "refs/heads/main",
            run_id: "987654",
            iat: now,
          },
        },
      });
      const exchanged = await page.request.post("/oauth/token", {
        form: {
          grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
          subject_token: await signed.text(),
          subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        },
      });
      expect(exchanged.status()).toBe(200);
      const minted = await exchanged.json();
      rememberSecret(minted.access_token);
      expect(minted).toMatchObject({ token_type: "Bearer", expires_in: 600, scope: "questions:write" });
      const me = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${minted.access_token}` } });
      expect((await me.json()).user.username).toBe(`service account ci-deploy (team ${team})`);

      await page.reload();
      await hydrated(page);
      const token = page.getByTestId("account-tokens").locator("li").first();
      await expect(token).toContainText("federated");
      await expect(token).toContainText("questions: write");
      const provenance = token.getByRole("definition");
      await expect(provenance.filter({ hasText: repository }).first()).toBeVisible();
      await expect(token).toContainText("987654");
      await expect(token).toContainText(ciIssuer);
      await expect(row.locator('td[data-label="Live tokens"]')).toHaveText("1");
      // The account's log, which nobody signs in to read: the exchange, with where it came from.
      await expect(page.getByTestId("account-activity")).toContainText(
        `Exchanged an identity token for a short-lived token — ci-deploy`,
      );
      await expect(page.getByTestId("account-activity")).toContainText(`repo:${repository}:ref:refs/heads/main at 127.0.0.1, run 987654`);
      await axeClean(page, true);
      await screenshot(page, `service-accounts-${width.name}-provenance`);

      // Removing the policy: the next exchange is refused.
      await page.getByRole("button", { name: /^Remove trust policy / }).click();
      await expect(page.getByTestId("no-trust-policies")).toBeVisible();
      const again = await page.request.post(`${ciIssuer}/sign`, {
        data: { key: "rsa", claims: { aud: "patdesk-e2e", sub: `repo:${repository}:ref:refs/heads/main`, repository, ref: "refs/heads/main" } },
      });
      const refused = await page.request.post("/oauth/token", {
        form: {
          grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
          subject_token: await again.text(),
          subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
        },
      });
      expect(refused.status()).toBe(400);
      expect((await refused.json()).error).toBe("invalid_grant");
    });
  });
}
