/**
 * Shared set-up for the browser tests: finds a Chromium, launches it headless through
 * `playwright-core`, and declares tests that are skipped (with a message) when no browser is
 * installed, unless `REQUIRE_BROWSER=1`, where a missing browser fails them instead.
 */
// deno-lint-ignore-file no-console
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { register, startServer, type TestServer } from "../helpers/server.ts";

export const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url).pathname;

/** The Chromium to drive: `CHROMIUM_PATH`, else the usual system paths; null when none. */
export function findChromium(): string | null {
  const candidates = [
    Deno.env.get("CHROMIUM_PATH"),
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
  ].filter((p): p is string => !!p);
  for (const p of candidates) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return null;
}

const chromiumPath = findChromium();
const required = Deno.env.get("REQUIRE_BROWSER") === "1";
let warned = false;

export interface Env {
  server: TestServer;
  browser: Browser;
  /** A new context and page, signed in as a fresh user (through the API, cookie set). */
  user(opts?: { name?: string; viewport?: { width: number; height: number } }): Promise<Signed>;
  newContext(opts?: Parameters<Browser["newContext"]>[0]): Promise<BrowserContext>;
}

export interface Signed {
  context: BrowserContext;
  page: Page;
  user: { id: string; username: string; displayName: string };
  cookie: string;
  accessToken: string;
  errors: string[];
}

/** A browser test with a fresh server and browser, both closed afterwards. */
export function browserTest(name: string, fn: (env: Env) => Promise<void>): void {
  if (!chromiumPath && !required) {
    if (!warned) {
      console.error("browser tests skipped: no Chromium (set CHROMIUM_PATH, or REQUIRE_BROWSER=1)");
      warned = true;
    }
    Deno.test({ name, ignore: true, fn() {} });
    return;
  }
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      if (!chromiumPath) throw new Error("REQUIRE_BROWSER=1 but no Chromium was found");
      await Deno.mkdir(ARTIFACTS, { recursive: true });
      const server = await startServer();
      let browser: Browser | null = null;
      try {
        browser = await chromium.launch({
          executablePath: chromiumPath,
          headless: true,
          args: [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
          ],
        });
        const b = browser;
        const newContext = (opts?: Parameters<Browser["newContext"]>[0]) =>
          b.newContext({ viewport: { width: 1200, height: 800 }, ...opts });
        const env: Env = {
          server,
          browser: b,
          newContext,
          async user(opts = {}) {
            const account = await register(server.url, opts.name);
            const context = await newContext(opts.viewport ? { viewport: opts.viewport } : {});
            const [cname, cvalue] = account.cookie.split("=");
            await context.addCookies([{
              name: cname,
              value: cvalue,
              url: server.url,
            }]);
            const page = await context.newPage();
            const errors = watchErrors(page);
            return {
              context,
              page,
              user: account.user,
              cookie: account.cookie,
              accessToken: account.accessToken,
              errors,
            };
          },
        };
        await fn(env);
      } finally {
        await browser?.close().catch(() => {});
        await server.close();
      }
    },
  });
}

/** Collects page errors and CSP violations, which no test should produce. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !/Failed to load resource|WebSocket/.test(m.text())) {
      errors.push(m.text());
    }
  });
  return errors;
}

/** Opens /chat (or a conversation) and waits for the island to hold a live connection. */
export async function openChat(page: Page, base: string, convId?: string): Promise<void> {
  await page.goto(convId ? `${base}/chat/${convId}` : `${base}/chat`);
  await page.waitForSelector('[data-connection="open"]');
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${ARTIFACTS}${name}.png` });
}
