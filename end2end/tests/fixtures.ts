import { test as base, expect } from "@playwright/test";

export * from "@playwright/test";

/**
 * Every test fails when the app's wasm panicked in any page of its browser context: a panic
 * aborts the wasm (release builds abort on panic), and the page then stops answering clicks
 * without another word — as "Confirm it is you" once did after Escape (issue 46).
 */
export const test = base.extend<{ noPanics: void }>({
  noPanics: [
    async ({ context }, use) => {
      const panics: string[] = [];
      context.on("weberror", (error) => panics.push(error.error().message));
      context.on("console", (message) => {
        if (message.type() === "error" && message.text().includes("panicked at")) {
          panics.push(message.text().split("\n")[0]);
        }
      });
      await use();
      expect(panics, "the app's wasm panicked").toEqual([]);
    },
    { auto: true },
  ],
});
