import { test, expect, Page } from "./fixtures";
import {
  PASSWORD,
  axeClean,
  cli,
  createToken,
  hydrated,
  rememberSecret,
  screenshot,
  totp,
  uniqueName,
} from "./helpers";

// Issue 46 §3 and §5, at a desktop's width and a phone's (touch): every page passes axe (no
// serious or critical finding against WCAG 2 A/AA) and never scrolls sideways; tables are cards
// on a phone with every value labelled and every action on screen; admin → All tokens fits at
// 1280 px; the bell's menu stays on screen; the header is one row on a desktop and folds its
// navigation and account behind "Menu" on a phone. Screenshots of every page at both widths go
// to test-results/screens/layout-<width>-<page>.png.

const WIDTHS = [
  { name: "desktop", use: { viewport: { width: 1280, height: 800 } } },
  { name: "phone", use: { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } },
];

async function signIn(page: Page, username: string) {
  await page.goto("/signin");
  await hydrated(page);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
}

/** The whole page is no wider than the window: nothing to scroll sideways. */
async function fitsTheWindow(page: Page, where: string) {
  const [scrollWidth, innerWidth, beyond] = await page.evaluate(() => {
    const wide = [...document.querySelectorAll("body *")]
      .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}.${el.getAttribute("class") ?? ""}`);
    return [document.scrollingElement!.scrollWidth, window.innerWidth, wide] as const;
  });
  expect(scrollWidth, `${where} scrolls sideways (${beyond.join(", ")})`).toBeLessThanOrEqual(innerWidth);
}

/** Every element `selector` finds is drawn, inside the window horizontally, and not cut off by
 * a box that scrolls or clips (what a swipe would have to reveal). Returns how many it checked. */
async function allOnScreen(page: Page, selector: string): Promise<number> {
  const [count, problems] = await page.evaluate((selector) => {
    const found = [...document.querySelectorAll<HTMLElement>(selector)];
    const problems: string[] = [];
    for (const el of found) {
      const name = (el.getAttribute("aria-label") ?? el.textContent ?? "").trim().slice(0, 40);
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) {
        problems.push(`${name}: not drawn`);
        continue;
      }
      if (box.left < -0.5 || box.right > window.innerWidth + 0.5) {
        problems.push(`${name}: at x ${Math.round(box.left)}–${Math.round(box.right)} of ${window.innerWidth}`);
      }
      for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
        if (getComputedStyle(up).overflowX === "visible") continue;
        const frame = up.getBoundingClientRect();
        if (box.left < frame.left - 0.5 || box.right > frame.right + 0.5) {
          problems.push(`${name}: cut off by ${up.tagName.toLowerCase()}.${up.className}`);
        }
      }
    }
    return [found.length, problems] as const;
  }, selector);
  expect(problems, `${selector} on ${page.url()}`).toEqual([]);
  return count;
}

/** On a phone: each row of `table` is a card, and each of its cells says which column it is. */
async function cardsWithLabels(page: Page, table: string) {
  const [rows, unlabelled, layout] = await page.evaluate((table) => {
    const cells = [...document.querySelectorAll<HTMLElement>(`${table} tbody td`)].filter(
      (td) => !td.classList.contains("actions") && !td.hasAttribute("colspan") && td.textContent!.trim() !== "",
    );
    const unlabelled = cells
      .filter((td) => {
        const label = getComputedStyle(td, "::before").content;
        return label === "none" || label === "normal" || label === '""';
      })
      .map((td) => td.textContent!.trim().slice(0, 30));
    const first = document.querySelector(`${table} tbody tr`);
    return [
      document.querySelectorAll(`${table} tbody tr`).length,
      unlabelled,
      first ? getComputedStyle(first).display : "none",
    ] as const;
  }, table);
  expect(rows, `${table} has rows`).toBeGreaterThan(0);
  expect(layout, `${table}'s rows are cards`).toBe("block");
  expect(unlabelled, `${table}: cells without their column's name`).toEqual([]);
}

/** axe at both colour schemes (the app follows the system's; Swagger UI stays light). */
async function accessible(page: Page) {
  await axeClean(page, true);
  await page.emulateMedia({ colorScheme: "dark" });
  await axeClean(page, true);
  await page.emulateMedia({ colorScheme: "light" });
}

/** A page: axe, no sideways scrolling, a screenshot. */
async function checkPage(page: Page, width: string, name: string) {
  await fitsTheWindow(page, name);
  await accessible(page);
  await screenshot(page, `layout-${width}-${name}`);
}

/** The header: at most 64 px tall and one row on a desktop; on a phone one row too, with the
 * navigation and the account behind "Menu", which opens as a sheet that fits the window. */
async function checkHeader(page: Page, width: string, signedIn: boolean) {
  const header = page.locator("header.topbar");
  const bar = (await header.boundingBox())!;
  expect(bar.height, "the header's height").toBeLessThanOrEqual(64);
  const nav = page.getByRole("navigation", { name: "Main" });
  const account = signedIn
    ? page.getByRole("button", { name: "Sign out" })
    : page.getByRole("link", { name: "Sign up" });
  const menu = page.getByTestId("site-menu-button");
  if (width === "desktop") {
    await expect(menu).toBeHidden();
    // Everything in the bar's one row.
    const items = [nav.getByRole("link", { name: "Tokens" }), nav.getByRole("link", { name: "API explorer" }), account];
    if (signedIn) items.push(page.getByTestId("notices-menu").locator("summary"));
    for (const item of items) {
      const box = (await item.boundingBox())!;
      expect(box.y, "in the header's one row").toBeGreaterThanOrEqual(bar.y);
      expect(box.y + box.height, "in the header's one row").toBeLessThanOrEqual(bar.y + bar.height);
    }
    return;
  }
  await expect(menu).toBeVisible();
  await expect(nav).toBeHidden();
  await expect(account).toBeHidden();
  await menu.click();
  await expect(page.locator("details.site-menu")).toHaveAttribute("open", "");
  for (const name of ["Tokens", "Teams", "Activity", "API explorer"]) {
    await expect(nav.getByRole("link", { name })).toBeVisible();
  }
  await expect(account).toBeVisible();
  if (signedIn) await expect(page.getByRole("link", { name: "Admin", exact: true })).toBeVisible();
  await allOnScreen(page, ".site-menu-sheet :is(a, button)");
  await screenshot(page, `layout-${width}-menu-open`);
  // A link followed from the menu closes it, even one to the page already shown (here "/").
  if (signedIn) {
    await nav.getByRole("link", { name: "Tokens" }).click();
    await expect(page.locator("details.site-menu")).not.toHaveAttribute("open", "");
    await expect(nav).toBeHidden();
    await menu.click();
  }
  await nav.getByRole("link", { name: "Teams" }).click();
  await expect(page.getByRole("heading", { level: 1, name: signedIn ? "Teams" : "Sign in" })).toBeVisible();
  await expect(page.locator("details.site-menu")).not.toHaveAttribute("open", "");
  await expect(nav).toBeHidden();
}

for (const width of WIDTHS) {
  test.describe(width.name, () => {
    test.use(width.use);

    test(`signed out: sign-in and sign-up pages, and the header (${width.name})`, async ({ page }) => {
      for (const [path, name] of [
        ["/signin", "sign-in"],
        ["/signup", "sign-up"],
      ]) {
        await page.goto(path);
        await hydrated(page);
        await checkPage(page, width.name, name);
      }
      await page.goto("/signin");
      await hydrated(page);
      await checkHeader(page, width.name, false);
    });

    test(`every signed-in page: axe, no sideways scrolling, cards and their actions (${width.name})`, async ({ page }) => {
      // 15 pages, each checked by axe twice (light and dark).
      test.setTimeout(300_000);
      const admin = uniqueName("layout");
      const writer = uniqueName("laywriter");
      const team = uniqueName("layteam");
      const other = uniqueName("layother");
      cli(["user", "add", admin, "--admin"], `${PASSWORD}\n`);
      cli(["user", "add", writer], `${PASSWORD}\n`);
      cli(["team", "add", team, "--owner", admin, "--name", "Layout team"]);
      // A second team, so that the explorer waits for a choice.
      cli(["team", "add", other, "--owner", writer, "--name", "Other team"]);
      cli(["team", "member", "add", other, admin, "--role", "reader"]);
      cli(["team", "member", "add", team, writer, "--role", "writer"]);
      const used = createToken(admin, team, "deploy pipeline with a rather long description", "--write");
      createToken(admin, team, "nightly report", "--expires-in-days", "7");
      createToken(admin, team, "laptop script", "--no-expiry");
      createToken(writer, team, "writer's build job", "--write");
      // Calls from this address, for the token page's addresses table (written every few s).
      for (let i = 0; i < 3; i++) {
        const response = await page.request.get("/api/v1/me", { headers: { Authorization: `Bearer ${used.token}` } });
        expect(response.status()).toBe(200);
      }
      await signIn(page, admin);

      // The token list: the header, the bell, then cards with every action on screen.
      await page.goto("/");
      await hydrated(page);
      await checkPage(page, width.name, "tokens");
      await expect(page.locator("table.tokens tbody tr")).toHaveCount(3);
      expect(await allOnScreen(page, "table.tokens tbody :is(button, a)")).toBeGreaterThanOrEqual(9);
      if (width.name === "phone") await cardsWithLabels(page, "table.tokens");
      const bell = page.getByTestId("notices-menu");
      await bell.locator("summary").click();
      const sheet = bell.locator(".notices-panel");
      await expect(sheet).toBeVisible();
      const box = (await sheet.boundingBox())!;
      expect(box.x, "the bell's menu starts inside the window").toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, "the bell's menu ends inside the window").toBeLessThanOrEqual(width.use.viewport.width);
      if (width.name === "phone") expect(box.width, "a sheet the window's width").toBeGreaterThanOrEqual(380);
      await allOnScreen(page, ".notices-panel :is(a, button)");
      await screenshot(page, `layout-${width.name}-bell`);
      await bell.locator("summary").click();
      await expect(sheet).toBeHidden();
      if (width.name === "phone") {
        // One sheet at a time: opening the menu closes the bell's, and the other way round.
        await bell.locator("summary").click();
        await expect(sheet).toBeVisible();
        await page.getByTestId("site-menu-button").click();
        await expect(sheet).toBeHidden();
        await expect(page.getByRole("navigation", { name: "Main" })).toBeVisible();
        await bell.locator("summary").click();
        await expect(sheet).toBeVisible();
        await expect(page.getByRole("navigation", { name: "Main" })).toBeHidden();
        await bell.locator("summary").click();
        await expect(sheet).toBeHidden();
      }
      await checkHeader(page, width.name, true);

      // The token's page, once the calls are counted.
      await expect(async () => {
        await page.goto(`/tokens/${used.id}`);
        await expect(page.getByTestId("addresses")).toBeVisible({ timeout: 1000 });
      }).toPass({ timeout: 30_000 });
      await hydrated(page);
      await checkPage(page, width.name, "token");
      await allOnScreen(page, "main :is(button, a)");
      if (width.name === "phone") await cardsWithLabels(page, "table[data-testid=addresses]");

      const pages: [string, string, string?][] = [
        ["/teams", "teams", "table.table"],
        [`/teams/${team}`, "team", "table.members"],
        [`/teams/${team}/tokens`, "team-tokens", "table.team-tokens"],
        [`/teams/${team}/services`, "services"],
        [`/teams/${team}/service-accounts`, "service-accounts"],
        [`/teams/${team}/webhooks`, "webhooks"],
        ["/activity", "activity", "table.activity"],
        ["/account", "account"],
        ["/notifications", "notifications"],
        ["/admin", "admin"],
        ["/admin/users", "admin-users", "table.accounts"],
        ["/admin/webhooks", "admin-webhooks"],
        // Last: the checks below use its Revoke buttons.
        ["/admin/tokens", "admin-tokens", "table.team-tokens"],
      ];
      for (const [path, name, table] of pages) {
        await page.goto(path);
        await hydrated(page);
        await checkPage(page, width.name, name);
        if (table) {
          // Every value and every action of every row on screen, without a swipe (admin → All
          // tokens included: its Revoke was cut off at 1280 px).
          await allOnScreen(page, `${table} tbody :is(button, a)`);
          if (width.name === "phone") await cardsWithLabels(page, table);
        }
      }
      await expect(page.locator("table.team-tokens tbody").getByRole("button", { name: /^Revoke / }).first()).toBeVisible();
      // A suspended account's row is dimmed, and still readable.
      cli(["user", "suspend", writer]);
      await page.goto("/admin/users");
      await hydrated(page);
      await expect(page.locator(`tr.expired-row[data-user="${writer}"]`)).toBeVisible();
      await accessible(page);

      // The explorer, once Swagger UI has drawn the operations, and after a call's answer.
      await page.goto("/explorer");
      await hydrated(page);
      await page.getByLabel("Team", { exact: true }).selectOption(team);
      await expect(page.getByTestId("explorer-status")).toContainText("Authorized with token tok_");
      const me = page.locator(".opblock-get").filter({ has: page.locator('[data-path="/api/v1/me"]') });
      await expect(me).toBeVisible();
      await checkPage(page, width.name, "explorer");
      await me.locator(".opblock-summary").click();
      await me.getByRole("button", { name: "Try it out" }).click();
      await me.getByRole("button", { name: "Execute" }).click();
      await expect(me.locator(".live-responses-table")).toBeVisible();
      await fitsTheWindow(page, "explorer after a call");
      await accessible(page);
      await screenshot(page, `layout-${width.name}-explorer-call`);
    });

    test(`the second factor's page (${width.name})`, async ({ page }) => {
      const user = uniqueName("laytfa");
      cli(["user", "add", user], `${PASSWORD}\n`);
      await signIn(page, user);
      await page.goto("/account");
      await hydrated(page);
      await page.getByTestId("totp-begin").click();
      const secret = (await page.getByTestId("totp-secret").textContent())!.trim();
      rememberSecret(secret);
      await page.getByTestId("totp-confirm-code").fill(totp(secret));
      await page.getByRole("button", { name: "Turn on" }).click();
      await expect(page.getByTestId("recovery-codes")).toBeVisible();
      for (const code of await page.getByTestId("recovery-codes").locator("li code").allTextContents()) {
        rememberSecret(code.trim());
      }
      await page.context().clearCookies();
      await page.goto("/signin");
      await hydrated(page);
      await page.getByLabel("Username").fill(user);
      await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await expect(page).toHaveURL(/\/signin\/two-factor/);
      await hydrated(page);
      await checkPage(page, width.name, "second-factor");
    });
  });
}
