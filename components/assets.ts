/**
 * The addresses pages link their built files by. The build gives each file a copy named for its
 * content (scripts/build.ts); routes/static.ts installs the lookup from its manifest, so a page
 * links `/static/js/chat.<hash>.js`, which browsers may keep for a year. Until a lookup is
 * installed (or for a file the build did not hash) the plain path is used.
 * @module
 */

let lookup: (path: string) => string | undefined = () => undefined;

/** The address to link for a built file's plain path, e.g. `asset("/static/app.css")`. */
export function asset(path: string): string {
  return lookup(path) ?? path;
}

/** Installs the manifest lookup (routes/static.ts, when the app is built). */
export function setAssetLookup(fn: (path: string) => string | undefined): void {
  lookup = fn;
}
