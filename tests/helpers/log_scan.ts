/**
 * The end-of-run secret scan: reads every log line the test servers of one run wrote (collected
 * by `tests/helpers/logsink.ts` into `PARLEY_TEST_LOG_DIR`) and reports any that holds a secret.
 * `scripts/test.ts` runs it after `deno test` and counts it as one more test in the totals.
 *
 * What counts as a secret: every password, token and cookie value the test helpers recorded
 * (verbatim), and by shape, whoever used it: a JWT (an access token), a session token (the
 * refresh token and the cookie share the `<session uuid>.<43 base64url>` shape), an
 * `Authorization` header or a `Bearer` credential, the session cookie (`parley_session=`), a
 * `Cookie`/`Set-Cookie` header, a password field of a request body, and a CSRF token field
 * (Parley checks CSRF by Origin and has no tokens; a line naming one is a leak all the same).
 * @module
 */

export interface Finding {
  file: string;
  lineNo: number;
  server: string;
  what: string;
  /** The line around the match, with the secret itself masked. */
  excerpt: string;
}

export interface ScanResult {
  files: number;
  lines: number;
  /** Distinct servers that wrote at least one line: in-process ones and child processes. */
  inprocServers: number;
  childServers: number;
  knownSecrets: number;
  findings: Finding[];
}

/** The shapes a secret has, whoever's it is. */
export const SHAPES: readonly { what: string; re: RegExp }[] = [
  { what: "a JWT", re: /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/ },
  {
    what: "a session token (refresh token or cookie value)",
    re: /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{43}/,
  },
  { what: "a Bearer credential", re: /\bbearer\s+[A-Za-z0-9._~+\/=-]{8,}/i },
  { what: "an Authorization header", re: /["']?\bauthorization["']?\s*[:=]\s*["']?\S/i },
  { what: "the session cookie", re: /parley_session=[^;\s"]/ },
  { what: "a Cookie header", re: /["']?\b(?:set-)?cookie["']?\s*:\s*["']?[A-Za-z0-9_-]+=/i },
  {
    what: "a password field",
    re: /["']?\b(?:password|currentPassword|newPassword)["']?\s*[:=]\s*["'][^"']/i,
  },
  { what: "a CSRF token", re: /["']?\b(?:csrf[_-]?token|_csrf)["']?\s*[:=]\s*["']?[A-Za-z0-9]/i },
];

function mask(line: string, at: number, len: number): string {
  const from = Math.max(0, at - 60);
  const shown = Math.min(len, 6);
  return line.slice(from, at + shown) + "…" + line.slice(at + len, at + len + 40);
}

/** What in `line` is a secret: by the known values, then by shape. */
export function secretsIn(
  line: string,
  known: ReadonlyMap<string, string>,
): { what: string; at: number; len: number }[] {
  const out: { what: string; at: number; len: number }[] = [];
  for (const [value, kind] of known) {
    const at = line.indexOf(value);
    if (at >= 0) out.push({ what: `a ${kind} used in a test`, at, len: value.length });
  }
  for (const { what, re } of SHAPES) {
    const m = re.exec(line);
    if (m) out.push({ what, at: m.index, len: m[0].length });
  }
  return out;
}

async function readKnown(dir: string): Promise<Map<string, string>> {
  const known = new Map<string, string>();
  for await (const e of Deno.readDir(dir)) {
    if (!e.name.endsWith(".secrets.jsonl")) continue;
    for (const line of (await Deno.readTextFile(`${dir}/${e.name}`)).split("\n")) {
      if (!line) continue;
      const { kind, value } = JSON.parse(line);
      if (typeof value === "string" && value.length >= 8) known.set(value, kind);
    }
  }
  return known;
}

/** Scans every `*.log` in `dir`. */
export async function scanLogDir(dir: string): Promise<ScanResult> {
  const known = await readKnown(dir);
  const result: ScanResult = {
    files: 0,
    lines: 0,
    inprocServers: 0,
    childServers: 0,
    knownSecrets: known.size,
    findings: [],
  };
  const inproc = new Set<string>();
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.name.endsWith(".log")) names.push(e.name);
  for (const name of names.sort()) {
    result.files++;
    const child = name.startsWith("child-");
    const text = await Deno.readTextFile(`${dir}/${name}`);
    let lineNo = 0;
    let childLines = 0;
    for (const stored of text.split("\n")) {
      lineNo++;
      if (!stored.trim()) continue;
      let server = child ? name.slice(0, -4) : "";
      let line = stored;
      if (!child) {
        try {
          const rec = JSON.parse(stored);
          server = String(rec.server ?? "");
          line = String(rec.line ?? "");
        } catch {
          // A line cut short by a killed test process: scan it as it is.
        }
        if (server) inproc.add(server);
      } else childLines++;
      result.lines++;
      for (const f of secretsIn(line, known)) {
        result.findings.push({
          file: name,
          lineNo,
          server,
          what: f.what,
          excerpt: mask(line, f.at, f.len),
        });
      }
    }
    if (child && childLines > 0) result.childServers++;
  }
  result.inprocServers = inproc.size;
  return result;
}

/** What a whole-suite run must have seen for a clean scan to mean anything. */
export const FULL_RUN_MINIMUM = {
  lines: 1500,
  inprocServers: 100,
  childServers: 5,
  knownSecrets: 500,
} as const;

/**
 * The verdict: findings fail; so does a whole-suite run that saw too little to be worth
 * trusting (the collection broke, and a clean scan of nothing proves nothing).
 */
export function verdict(r: ScanResult, fullRun: boolean): { ok: boolean; problems: string[] } {
  const problems = r.findings.slice(0, 30).map((f) =>
    `${f.what} in ${f.file}:${f.lineNo}${f.server ? ` (${f.server})` : ""}: ${f.excerpt}`
  );
  if (r.findings.length > 30) problems.push(`… and ${r.findings.length - 30} more`);
  if (fullRun) {
    for (const [k, min] of Object.entries(FULL_RUN_MINIMUM)) {
      const got = r[k as keyof typeof FULL_RUN_MINIMUM];
      if (got < min) problems.push(`only ${got} ${k} (a whole run gives at least ${min})`);
    }
  }
  return { ok: problems.length === 0, problems };
}
