/**
 * Builds the client assets into `_build/` (git-ignored): Tailwind CSS, the favicon, and the
 * island bundles. Run by `deno task build`, `start`, `dev` and `test`.
 *
 * Each built file also gets a copy named for its content (`chat.3f9a…c1.js`) that pages link to
 * and that is served `immutable` for a year: a new build is a new name, so no browser keeps a
 * stale bundle, and a returning one asks for nothing. `_build/manifest.json` maps each plain
 * path to its hashed one (routes/static.ts reads it). Every JS, CSS and SVG file is stored
 * compressed beside itself (`.br`, `.gz`, at the highest levels, once per build rather than per
 * request); the server picks the variant the browser accepts.
 * @module
 */
// deno-lint-ignore-file no-console
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

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

/** The file name of the manifest in the build folder. */
export const MANIFEST = "manifest.json";

/** `name.ext` with the first 16 hex digits of its content's SHA-256 before the extension. */
async function hashedName(path: string, bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = [...digest.slice(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return path.replace(/(\.[a-z]+)$/, `.${hex}$1`);
}

/** Writes `.br` and `.gz` beside a file, when compressing makes it smaller. */
async function precompress(path: string, bytes: Uint8Array): Promise<void> {
  const br = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
    },
  });
  const gz = gzipSync(bytes, { level: 9 });
  if (br.length < bytes.length) await Deno.writeFile(`${path}.br`, br);
  if (gz.length < bytes.length) await Deno.writeFile(`${path}.gz`, gz);
}

/** Gives the built files (entries, styles, icon) hashed copies, compresses every file, and
 * writes the manifest last (atomically: a server reading it never sees half a file). */
async function fingerprint(): Promise<Record<string, string>> {
  const manifest: Record<string, string> = {};
  const plain = [
    "app.css",
    "favicon.svg",
    ...ENTRIES.map((e) => `js/${e.split("/").pop()!.replace(/\.tsx?$/, ".js")}`),
  ];
  for (const rel of plain) {
    let bytes: Uint8Array<ArrayBuffer>;
    try {
      bytes = await Deno.readFile(`${out}/${rel}`);
    } catch {
      continue; // an entry not there yet
    }
    const hashed = await hashedName(rel, bytes);
    await Deno.writeFile(`${out}/${hashed}`, bytes);
    manifest[`/static/${rel}`] = `/static/${hashed}`;
  }
  for (const dir of ["", "js/"]) {
    for await (const e of Deno.readDir(`${out}/${dir}`)) {
      if (!e.isFile || !/\.(js|css|svg)$/.test(e.name)) continue;
      const path = `${out}/${dir}${e.name}`;
      await precompress(path, await Deno.readFile(path));
    }
  }
  await Deno.writeTextFile(`${out}/${MANIFEST}.tmp`, JSON.stringify(manifest, null, 2));
  await Deno.rename(`${out}/${MANIFEST}.tmp`, `${out}/${MANIFEST}`);
  return manifest;
}

export async function build(): Promise<void> {
  const t0 = performance.now();
  // Hashed copies and compressed variants of earlier builds would pile up otherwise.
  await Deno.remove(out, { recursive: true }).catch(() => {});
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
  await fingerprint();
  console.error(`built client assets in ${Math.round(performance.now() - t0)} ms`);
}

if (import.meta.main) await build();
