/**
 * Shared set-up for the browser tests: finds a Chromium, launches it headless through
 * `playwright-core`, and declares tests that are skipped (with a message) when no browser is
 * installed, unless `REQUIRE_BROWSER=1`, where a missing browser fails them instead.
 */
// deno-lint-ignore-file no-console
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { api, startServer, type TestServer, uniqueName } from "../helpers/server.ts";

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
  user(
    opts?: {
      name?: string;
      displayName?: string;
      viewport?: { width: number; height: number };
      /** A phone: touch screen, mobile viewport. */
      touch?: boolean;
    },
  ): Promise<Signed>;
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
            const username = opts.name ?? uniqueName();
            const res = await api(server.url, "POST", "/api/auth/register", {
              body: {
                username,
                password: "password123",
                displayName: opts.displayName ?? username.replace(/_/g, " "),
              },
            });
            if (res.status !== 201) throw new Error(`register failed: ${res.status}`);
            const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0];
            const account = { user: res.body.user, cookie, accessToken: res.body.accessToken };
            const context = await newContext({
              ...(opts.viewport ? { viewport: opts.viewport } : {}),
              ...(opts.touch ? { hasTouch: true, isMobile: true } : {}),
            });
            const [cname, cvalue] = cookie.split("=");
            await context.addCookies([{ name: cname, value: cvalue, url: server.url }]);
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

/** Starts a direct chat with `other` from the New chat dialog; resolves to its id. */
export async function startDirect(page: Page, other: Signed["user"]): Promise<string> {
  await page.getByTestId("new-conversation").click();
  const dialog = page.getByTestId("new-dialog");
  await dialog.getByLabel("Who do you want to talk to?").fill(other.username);
  await dialog.getByTestId("user-result").filter({ hasText: other.displayName })
    .getByRole("button", { name: "Message" }).click();
  await page.waitForURL(/\/chat\/[^/]+$/);
  await page.getByTestId("conversation-heading").filter({ hasText: other.displayName }).waitFor();
  return convIdOf(page);
}

/** The id of the conversation open in a page, from its URL. */
export function convIdOf(page: Page): string {
  return decodeURIComponent(new URL(page.url()).pathname.split("/").pop()!);
}

/** Types a message and sends it with Enter. */
export async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId("composer").fill(text);
  await page.getByTestId("composer").press("Enter");
}

/** The texts of the messages shown, in order. */
export function bodies(page: Page): Promise<string[]> {
  return page.getByTestId("message-body").allTextContents();
}

/** Waits until the page shows exactly these message texts, in this order. */
export async function waitForBodies(page: Page, expected: string[], timeout = 10_000) {
  await page.waitForFunction(
    (want) => {
      const got = [...document.querySelectorAll('[data-testid="message-body"]')]
        .map((e) => e.textContent);
      return JSON.stringify(got) === JSON.stringify(want);
    },
    expected,
    { timeout },
  ).catch(async (err) => {
    throw new Error(
      `${err.message}\nexpected ${JSON.stringify(expected)}\ngot ${
        JSON.stringify(await bodies(page))
      }`,
    );
  });
}

/**
 * Reads `read` until it gives `want` (compared as JSON), for up to `timeout` ms, then asserts it:
 * for UI state that settles a render or a round trip after the action that causes it.
 */
export async function settles<T>(
  read: () => Promise<T>,
  want: T,
  what: string,
  timeout = 10_000,
): Promise<void> {
  const end = Date.now() + timeout;
  let got = await read();
  while (JSON.stringify(got) !== JSON.stringify(want) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    got = await read();
  }
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  }
}

/** Opens the conversation `id` from the sidebar. */
export async function openFromList(page: Page, id: string): Promise<void> {
  await page.locator(`[data-testid="conversation-item"][data-id="${id}"]`).click();
  await page.waitForURL(new RegExp(`/chat/${id}$`));
}

/** Sends a message over the HTTP API as `token`, waiting out the rate limit when it bites. */
export async function postMessage(base: string, token: string, convId: string, body: string) {
  const id = crypto.randomUUID();
  for (;;) {
    const r = await api(base, "POST", `/api/conversations/${convId}/messages`, {
      token,
      body: { id, body },
    });
    if (r.status === 201 || r.status === 200) return r.body as { id: string; seq: number };
    if (r.status !== 429) throw new Error(`send failed: ${r.status} ${JSON.stringify(r.body)}`);
    await new Promise((ok) => setTimeout(ok, r.body?.error?.retryAfterMs ?? 100));
  }
}

/** Creates the direct conversation of two users over the API; returns its id. */
export async function createDirect(base: string, from: Signed, to: Signed): Promise<string> {
  const r = await api(base, "POST", "/api/conversations", {
    token: from.accessToken,
    body: { kind: "direct", userId: to.user.id },
  });
  if (r.status !== 201 && r.status !== 200) throw new Error(`direct chat failed: ${r.status}`);
  return r.body.conversation.id;
}
