import { test, expect, Page } from "./fixtures";
import { cli, hydrated, openMainMenu, signUp, uniqueName } from "./helpers";

// Every page is a lazily loaded route with a wasm chunk of its own (docs/frontend.md). These
// tests load each page cold, let it hydrate, then walk to every other page inside the app, and
// check that nothing is reloaded, that chunks arrive when a page is first shown, and that the
// console stays clean.

/** A page: where it is, its heading, and how to get there from any other page. */
type Stop = { url: string; path: RegExp; heading: string; go: (page: Page) => Promise<void> };

/** Client-side ways to each signed-in page: the main menu (behind "Menu" on a phone), and the
 * team's row for its page. */
function stops(teamSlug: string, teamName: string): Stop[] {
  const link = (name: string) => async (p: Page) => {
    await openMainMenu(p);
    await p.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
  };
  const teams = link("Teams");
  return [
    { url: "/", path: /\/$/, heading: "Access tokens", go: link("Tokens") },
    { url: "/teams", path: /\/teams$/, heading: "Teams", go: link("Teams") },
    {
      url: `/teams/${teamSlug}`,
      path: new RegExp(`/teams/${teamSlug}$`),
      heading: teamName,
      go: async (p) => {
        await teams(p);
        await p.getByRole("link", { name: teamName }).click();
      },
    },
    {
      url: `/teams/${teamSlug}/tokens`,
      path: new RegExp(`/teams/${teamSlug}/tokens$`),
      heading: teamName,
      go: async (p) => {
        await teams(p);
        await p.getByRole("link", { name: teamName }).click();
        await p.getByRole("navigation", { name: "Team" }).getByRole("link", { name: "Tokens" }).click();
      },
    },
    { url: "/activity", path: /\/activity$/, heading: "Activity", go: link("Activity") },
    { url: "/explorer", path: /\/explorer$/, heading: "API explorer", go: link("API explorer") },
    {
      url: "/account",
      path: /\/account$/,
      heading: "Account",
      // The user's name in the header's menu.
      go: async (p) => {
        await openMainMenu(p);
        await p.getByTitle("Your account and notifications").click();
      },
    },
    {
      url: "/notifications",
      path: /\/notifications$/,
      heading: "Notifications",
      go: async (p) => {
        await p.getByTestId("notices-menu").locator("summary").click();
        await p.getByRole("link", { name: "See all notifications" }).click();
      },
    },
  ];
}

/** Records console errors, page errors and the wasm files fetched. */
function watch(page: Page) {
  const errors: string[] = [];
  const wasm = new Set<string>();
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith("/pkg/") && url.pathname.endsWith(".wasm")) wasm.add(url.pathname);
  });
  return { errors, wasm };
}

/** Marks the current document: the mark survives client-side navigation, not a reload. */
async function mark(page: Page) {
  await page.evaluate(() => ((window as unknown as { spaMark: boolean }).spaMark = true));
}
async function stillMarked(page: Page) {
  return page.evaluate(() => (window as unknown as { spaMark?: boolean }).spaMark === true);
}

// At a desktop's width and at a phone's (the main menu and the account behind "Menu",
// style/main.css's narrow layout).
const widths = [
  { name: "desktop", use: { viewport: { width: 1280, height: 720 } } },
  { name: "phone", use: { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } },
];

for (const width of widths) {
  test.describe(`at ${width.name} width`, () => {
    test.use(width.use);

    test("every page loads, hydrates and reaches every other page without a reload", async ({ page }) => {
      // 8 pages, 56 walks between them.
      test.setTimeout(120_000);
      const seen = watch(page);
      const user = uniqueName("nav");
      const teamSlug = uniqueName("navteam");
      const teamName = "Navigation team";
      await signUp(page, user);
      cli(["team", "add", teamSlug, "--name", teamName, "--owner", user]);

      const pages = stops(teamSlug, teamName);
      for (const start of pages) {
        await page.goto(start.url);
        await hydrated(page);
        await expect(page.getByRole("heading", { level: 1, name: start.heading })).toBeVisible();
        // Nothing makes the page wider than the window (no sideways scrolling of the whole page).
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${start.heading} is wider than the window`).toBeLessThanOrEqual(0);
        if (start.url === "/") await page.screenshot({ path: `test-results/navigation-${width.name}.png` });
        await mark(page);
        for (const next of pages) {
          if (next === start) continue;
          await next.go(page);
          await expect(page).toHaveURL(next.path);
          await expect(page.getByRole("heading", { level: 1, name: next.heading })).toBeVisible();
          expect(await stillMarked(page), `${start.heading} → ${next.heading} reloaded the page`).toBe(true);
        }
      }
      expect(seen.errors).toEqual([]);
    });
  });
}

test("a page's chunk is fetched when the page is first shown, not before", async ({ page }) => {
  const seen = watch(page);
  await page.goto("/signin");
  await hydrated(page);
  const atSignIn = new Set(seen.wasm);
  // The main module and the sign-in page's bundle (scripts/bundle-chunks.py): two files, not
  // the dozens of chunks the bundle holds.
  expect([...atSignIn].filter((file) => /\/bundle_\d+\./.test(file))).toHaveLength(1);
  expect(atSignIn.size).toBe(2);

  await mark(page);
  await page.getByRole("link", { name: "Create an account" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Create your account" })).toBeVisible();
  const fetchedForSignUp = [...seen.wasm].filter((file) => !atSignIn.has(file));
  expect(fetchedForSignUp.length, "the sign-up page's own chunk").toBeGreaterThan(0);
  expect(await stillMarked(page)).toBe(true);

  // Back again: its chunk is already here, nothing new is fetched.
  const before = seen.wasm.size;
  await page.getByRole("link", { name: "Sign in", exact: true }).first().click();
  await expect(page.getByRole("heading", { level: 1, name: "Sign in to patdesk" })).toBeVisible();
  expect(seen.wasm.size).toBe(before);

  // The sign-up form works after a client-side arrival: the account is made, signed in.
  const user = uniqueName("lazy");
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("Username").fill(user);
  await page.getByLabel("Password", { exact: true }).fill("correct horse battery staple");
  await page.getByLabel("Confirm password").fill("correct horse battery staple");
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByText(`Signed in as ${user}`)).toBeVisible();
  expect(seen.errors).toEqual([]);
});
