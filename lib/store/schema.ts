/**
 * The store's schema version and the migrations between versions. Every isolate checks the
 * version at start (`ensureSchema`): an empty store is stamped with the current version, an
 * older one is upgraded one step at a time, and a newer one is refused, because this code
 * would misread records whose shape it does not know (the usual cause: a rollback to an older
 * release after an upgrade).
 * @module
 */
import { keys } from "./keys.ts";
import { retry } from "./kv.ts";
import { buildUserWordIndex } from "./users.ts";

/** The version of the record shapes this code reads and writes. */
export const SCHEMA_VERSION = 4;

/** One step from `from` to `from + 1`. It must be safe to run again if it was interrupted. */
export interface Migration {
  from: number;
  description: string;
  run(kv: Deno.Kv): Promise<void>;
}

/**
 * The steps, in order. Version 0 is a store written before the version key existed (it holds
 * data but no `["meta", "schema_version"]`); its records already have the version 1 shapes, so
 * the step only records that.
 */
export const MIGRATIONS: readonly Migration[] = [
  {
    from: 0,
    description: "stores from before the version key: the record shapes are those of version 1",
    run: () => Promise.resolve(),
  },
  {
    from: 1,
    // Until version 4 this step wrote a version-index entry for every stored message; sync now
    // reads an unchanged message at its seq (lib/store/stream.ts), so there is nothing to write.
    description: "message changes: stored messages are unchanged, at their own seq (no writes)",
    run: () => Promise.resolve(),
  },
  {
    from: 2,
    // Once an ad-hoc check every isolate made at start; as a step it runs once per store, before
    // anything reads, and a store that already had the index (its marker key set) skips the scan.
    description: "users get their search-word entries (users_by_word), for any-word search",
    run: async (kv) => {
      await buildUserWordIndex(kv);
    },
  },
  {
    from: 3,
    // Nothing to rewrite: the entries older releases wrote read the same. The bump keeps an
    // older release (which would find new messages only through those entries) off this store.
    description: "new messages get no version-index entry until changed (sync reads them by seq)",
    run: () => Promise.resolve(),
  },
];

/** Thrown when the store is newer than this code, or a step is missing. */
export class SchemaError extends Error {
  override name = "SchemaError";
}

/** The stored version: null for an empty store, 0 for data without a version key. */
export async function readSchemaVersion(kv: Deno.Kv): Promise<number | null> {
  const entry = await retry(() => kv.get<number>(keys.schemaVersion()));
  if (entry.value !== null) return entry.value;
  for await (const _ of kv.list({ prefix: [] }, { limit: 1 })) {
    // Another isolate starting at the same time may have stamped the store (and then written
    // to it) since the first read: the stamp always comes before any other write.
    return (await retry(() => kv.get<number>(keys.schemaVersion()))).value ?? 0;
  }
  return null;
}

/**
 * Brings the store to `target` (normally `SCHEMA_VERSION`): stamps an empty store, runs each
 * missing step in order (each one followed by its own version bump, so an interrupted upgrade
 * resumes where it stopped), and refuses a store newer than `target`. Isolates starting
 * together may run a step twice; steps are written to allow that, and the bump is guarded.
 * @returns the version before and after.
 * @throws SchemaError for a newer store or a missing step.
 */
export async function ensureSchema(
  kv: Deno.Kv,
  opts: { target?: number; migrations?: readonly Migration[]; onStep?: (m: Migration) => void } =
    {},
): Promise<{ from: number | null; to: number }> {
  const target = opts.target ?? SCHEMA_VERSION;
  const migrations = opts.migrations ?? MIGRATIONS;
  const from = await readSchemaVersion(kv);
  if (from === null) {
    await retry(() =>
      kv.atomic().check({ key: keys.schemaVersion(), versionstamp: null })
        .set(keys.schemaVersion(), target).commit()
    );
    return { from, to: (await readSchemaVersion(kv)) ?? target };
  }
  if (from > target) {
    throw new SchemaError(
      `The store has schema version ${from}, newer than this release understands (${target}). ` +
        `Run the release that wrote it, or restore a backup made by this one.`,
    );
  }
  let version = from;
  while (version < target) {
    const step = migrations.find((m) => m.from === version);
    if (!step) throw new SchemaError(`No migration from schema version ${version}.`);
    opts.onStep?.(step);
    await step.run(kv);
    const current = await retry(() => kv.get<number>(keys.schemaVersion()));
    // Another isolate may have finished this step already; never move the version backwards.
    if ((current.value ?? 0) <= version) {
      await retry(() => kv.atomic().check(current).set(keys.schemaVersion(), version + 1).commit());
    }
    version = (await retry(() => kv.get<number>(keys.schemaVersion()))).value ?? version + 1;
  }
  return { from, to: version };
}
