import { test, expect, Page } from "./fixtures";
import { cli, hydrated, screenshot, signUp, uniqueName } from "./helpers";

/** Violations of the page's Content-Security-Policy, as the browser reports them. */
async function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp: string[] }).__csp ?? []);
}

test("every page, the explorer included, runs within its Content-Security-Policy", async ({ page }) => {
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) =>
      w.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`),
    );
  });
  const consoleErrors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") consoleErrors.push(message.text());
  });

  const user = uniqueName("csp");
  const team = uniqueName("cspteam");
  await signUp(page, user);
  cli(["team", "add", team, "--owner", user]);

  for (const path of ["/", "/teams", `/teams/${team}`, "/activity", "/explorer"]) {
    const response = await page.goto(path);
    const policy = response!.headers()["content-security-policy"];
    expect(policy, path).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
    expect(policy, path).toContain("frame-ancestors 'none'");
    await hydrated(page);
    expect(await violations(page), path).toEqual([]);
  }

  // The explorer loads Swagger UI, renders the document and shows a live response.
  await page.getByLabel("Team", { exact: true }).selectOption(team);
  await expect(page.getByTestId("explorer-status")).toContainText("Authorized with token");
  const me = page.locator(".opblock-get").filter({ has: page.locator('[data-path="/api/v1/me"]') });
  await me.locator(".opblock-summary").click();
  await me.getByRole("button", { name: "Try it out" }).click();
  await me.getByRole("button", { name: "Execute" }).click();
  await expect(me.locator(".live-responses-table tbody .response-col_status").first()).toHaveText("200");
  await screenshot(page, "explorer-under-csp");
  expect(await violations(page)).toEqual([]);
  expect(consoleErrors.filter((e) => e.includes("Content Security Policy"))).toEqual([]);

  // And the policy is enforced: a script injected into the page does not run, and is reported.
  const ran = await page.evaluate(async () => {
    const script = document.createElement("script");
    script.textContent = "window.__injected = true";
    document.body.appendChild(script);
    await new Promise((resolve) => setTimeout(resolve, 100));
    return (window as unknown as { __injected?: boolean }).__injected === true;
  });
  expect(ran).toBe(false);
  expect((await violations(page)).some((v) => v.startsWith("script-src"))).toBe(true);
});
