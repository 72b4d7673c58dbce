/**
 * Builds the client assets into `_build/` (git-ignored): Tailwind CSS, the favicon, and the
 * island bundles. Run by `deno task build`, `start`, `dev` and `test`.
 * @module
 */
// deno-lint-ignore-file no-console
const root = new URL("../", import.meta.url).pathname;
const out = `${root}_build`;
const deno = Deno.execPath();

/** Browser entry points, bundled with code splitting. */
export const ENTRIES = ["client/chat.ts", "client/settings.ts"];

async function run(args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command(deno, {
    args,
    cwd: root,
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (code !== 0) {
    console.error(new TextDecoder().decode(stderr));
    throw new Error(`deno ${args.slice(0, 2).join(" ")} failed (exit ${code})`);
  }
}

export async function build(): Promise<void> {
  const t0 = performance.now();
  await Deno.mkdir(`${out}/js`, { recursive: true });
  await run(["install", "--quiet"]);
  const entries = [];
  for (const e of ENTRIES) {
    try {
      await Deno.stat(`${root}${e}`);
      entries.push(e);
    } catch { /* not there yet */ }
  }
  await Promise.all([
    run([
      "run",
      "-A",
      "npm:@tailwindcss/cli@4.3.3",
      "-i",
      "static/app.css",
      "-o",
      "_build/app.css",
      "--minify",
    ]),
    entries.length
      ? run([
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--minify",
        "--code-splitting",
        "--outdir",
        "_build/js",
        ...entries,
      ])
      : Promise.resolve(),
    Deno.copyFile(`${root}static/favicon.svg`, `${out}/favicon.svg`),
  ]);
  console.error(`built client assets in ${Math.round(performance.now() - t0)} ms`);
}

if (import.meta.main) await build();
