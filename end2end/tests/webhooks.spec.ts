import { test, expect } from "./fixtures";
import { webhookReceiver } from "../playwright.config";
import { axeClean, createToken, hydrated, rememberSecret, screenshot, signUp, uniqueName, cli } from "./helpers";

// Issue 49 (docs/webhooks.md), at a desktop's width and a phone's: a team admin adds a webhook
// on the team's Webhooks tab, gives its secret (shown once) to a receiver that verifies every
// delivery with PyPI standardwebhooks (scripts/webhook-receiver.py), sees the delivery of a
// token's creation in the list, redelivers it (same webhook-id), rotates the secret and removes
// the webhook. A webhook without events is a field error. Screenshots go to
// test-results/screens/webhooks-<width>-*.png.

const WIDTHS = [
  { name: "desktop", use: { viewport: { width: 1280, height: 800 } } },
  { name: "phone", use: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } },
];

type Seen = { deliveries: { id: string; type: string; payload: any }[]; attempts: number; refused: number };

for (const width of WIDTHS) {
  test.describe(width.name, () => {
    test.use(width.use);

    test(`a team admin adds a webhook and sees its deliveries (${width.name})`, async ({ page }) => {
      const user = uniqueName("hookadmin");
      const team = uniqueName("hookteam");
      const endpoint = `${webhookReceiver}/hook/${team}`;
      const seen = async (): Promise<Seen> => (await page.request.get(`${webhookReceiver}/received/${team}`)).json();
      await signUp(page, user);
      cli(["team", "add", team, "--owner", user]);

      await page.goto(`/teams/${team}`);
      await hydrated(page);
      await page.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Webhooks" }).click();
      await expect(page).toHaveURL(new RegExp(`/teams/${team}/webhooks$`));
      await hydrated(page);
      await expect(page.getByTestId("no-webhooks")).toBeVisible();
      // A team's webhook is offered its team's events only.
      await expect(page.getByLabel(/token\.created/)).toBeVisible();
      await expect(page.getByLabel(/audit\.entry/)).toHaveCount(0);

      await page.getByLabel("Payload URL").fill(endpoint);
      await page.getByRole("button", { name: "Add webhook" }).click();
      await expect(page.locator("#webhook-events-error")).toContainText("Choose at least one event");

      await page.getByLabel(/token\.created/).check();
      await page.getByLabel(/member\.added/).check();
      await page.getByRole("button", { name: "Add webhook" }).click();
      const secret = (await page.getByTestId("webhook-secret").textContent())!.trim();
      expect(secret).toMatch(/^whsec_/);
      rememberSecret(secret);
      await page.request.post(`${webhookReceiver}/control/${team}`, { data: { secrets: [secret] } });
      const card = page.locator("section.webhook");
      await expect(card).toContainText(endpoint);
      await expect(card.getByTestId("webhook-state")).toHaveText("On");

      // A token of the team: the receiver verifies its delivery; the card lists it.
      createToken(user, team, "deploy job");
      await expect(async () => expect((await seen()).deliveries.map((d) => d.type)).toEqual(["token.created"])).toPass({ timeout: 20_000 });
      const first = (await seen()).deliveries[0];
      expect(first.payload.data.token.description).toBe("deploy job");
      await expect(async () => {
        await page.reload();
        await expect(card.locator("table.deliveries tbody tr")).toContainText("Delivered", { timeout: 1000 });
      }).toPass({ timeout: 20_000 });
      await hydrated(page);
      const row = card.locator(`tr[data-message-id="${first.id}"]`);
      await expect(row).toContainText("token.created");
      await expect(row).toContainText("200");
      await axeClean(page, true);
      await screenshot(page, `webhooks-${width.name}-delivered`);

      // Redeliver: the same webhook-id again.
      await row.getByRole("button", { name: /^Redeliver token\.created/ }).click();
      await expect(async () => expect((await seen()).deliveries.map((d) => d.id)).toEqual([first.id, first.id])).toPass({ timeout: 20_000 });

      // Rotate: a new secret, shown once; the old one still verifies (both sign for a day).
      await card.getByRole("button", { name: /^Rotate the secret/ }).click();
      const panel = page.getByTestId("webhook-secret-panel");
      await expect(panel).toContainText("the old one signs too for 24 hours");
      const rotated = (await page.getByTestId("webhook-secret").textContent())!.trim();
      expect(rotated).not.toBe(secret);
      rememberSecret(rotated);
      await expect(card).toContainText("The previous secret signs too until");
      createToken(user, team, "after rotation");
      await expect(async () => expect((await seen()).deliveries).toHaveLength(3)).toPass({ timeout: 20_000 });
      expect((await seen()).refused).toBe(0);
      await screenshot(page, `webhooks-${width.name}-rotated`);

      await card.getByRole("button", { name: /^Remove / }).click();
      await expect(page.getByTestId("no-webhooks")).toBeVisible();
    });
  });
}
