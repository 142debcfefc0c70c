import { defineConfig } from "@playwright/test";

// The server under test: the release binary built by `cargo leptos build --release`, on a
// throw-away SQLite database under .tmp/ (wiped by start-server.sh), on its own port.
const port = Number(process.env.PATDESK_E2E_PORT ?? 3100);
export const baseURL = `http://127.0.0.1:${port}`;
// A real OpenID provider for single sign-on (oidc-provider-mock, installed by
// scripts/ensure-tools.sh under target/oidc-venv), on the next port.
export const issuer = `http://127.0.0.1:${port + 1}`;
// With PostgreSQL (PATDESK_TEST_POSTGRES_URL, as `.ci/run` sets it), a second server on a
// throw-away database there, two ports up, for the single sign-on specs ("sso on postgres").
const postgres = process.env.PATDESK_TEST_POSTGRES_URL;
const postgresURL = `http://127.0.0.1:${port + 2}`;
// A real SMTP server (aiosmtpd, installed by scripts/ensure-tools.sh under target/smtp-venv) on
// port + 3, storing every mail in the maildir end2end/.tmp-mail (account_care.spec.ts reads it).
export const smtpPort = port + 3;
// A CI platform's identity-token issuer (scripts/ci-issuer.py: PyJWT, installed by
// scripts/ensure-tools.sh under target/ci-issuer-venv) on port + 4, for service_accounts.spec.ts.
export const ciIssuer = `http://127.0.0.1:${port + 4}`;
// A webhook receiver (scripts/webhook-receiver.py: PyPI standardwebhooks, installed by
// scripts/ensure-tools.sh under target/webhooks-venv) on port + 5, for webhooks.spec.ts.
export const webhookReceiver = `http://127.0.0.1:${port + 5}`;

export default defineConfig({
  testDir: "./tests",
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  reporter: [["list"]],
  outputDir: "test-results",
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      // Debian's Chromium: Playwright cannot download its own browser here.
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  projects: [
    { name: "app", testMatch: /.*\.spec\.ts/, teardown: "leak check" },
    { name: "leak check", testMatch: /leaks\.teardown\.ts/ },
    ...(postgres
      ? [{ name: "sso on postgres", testMatch: /sso\.spec\.ts/, use: { baseURL: postgresURL } }]
      : []),
  ],
  webServer: [
    {
      command: `rm -rf .tmp-mail && ../target/smtp-venv/bin/aiosmtpd -n -l 127.0.0.1:${smtpPort} -c aiosmtpd.handlers.Mailbox .tmp-mail`,
      port: smtpPort,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "ignore",
    },
    {
      command: `../target/oidc-venv/bin/oidc-provider-mock --host 127.0.0.1 --port ${port + 1} --require-nonce true`,
      url: `${issuer}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "ignore",
    },
    {
      command: `../target/ci-issuer-venv/bin/python ../scripts/ci-issuer.py ${port + 4}`,
      url: `${ciIssuer}/.well-known/openid-configuration`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "ignore",
    },
    {
      command: `../target/webhooks-venv/bin/python ../scripts/webhook-receiver.py ${port + 5}`,
      url: `${webhookReceiver}/ready`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "ignore",
    },
    {
      command: `sh ./start-server.sh ${port}`,
      url: `${baseURL}/readyz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "ignore",
      stderr: "pipe",
    },
    ...(postgres
      ? [
          {
            command: `PATDESK_E2E_ISSUER=${issuer} PATDESK_E2E_SMTP_PORT=${smtpPort} sh ./start-server.sh ${port + 2} '${postgres}'`,
            url: `${postgresURL}/readyz`,
            reuseExistingServer: false,
            timeout: 60_000,
            stdout: "ignore" as const,
            stderr: "pipe" as const,
          },
        ]
      : []),
  ],
});
