import { test as teardown, expect } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { PASSWORD } from "./helpers";

// The "leak check" project: Playwright runs it after every spec of the "app" project, whatever
// their order or outcome (it is that project's teardown). No token value created during the run
// (the explorer's included) and no password may appear in the server's database files or log.
teardown("no token value or password is in the database files or the server log", async () => {
  const dir = path.resolve(__dirname, "../.tmp");
  const secretsFile = path.join(dir, "secrets.txt");
  const secrets = fs.existsSync(secretsFile)
    ? fs.readFileSync(secretsFile, "utf8").split("\n").filter(Boolean)
    : [];
  expect(secrets.length).toBeGreaterThan(0);
  secrets.push(PASSWORD);
  const files = fs.readdirSync(dir).filter((f) => f.startsWith("patdesk.db") || f === "server.log");
  expect(files).toContain("patdesk.db");
  expect(files).toContain("server.log");
  for (const file of files) {
    const content = fs.readFileSync(path.join(dir, file)).toString("latin1");
    for (const secret of secrets) {
      expect(content.includes(secret), `${file} contains a secret`).toBe(false);
    }
  }
});
