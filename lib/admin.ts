/**
 * `deno task admin <command>`: account and store management for operators. The command line
 * is parsed here and the work done by `store/admin.ts`, so the script stays a thin shell and
 * every command is tested in-process against a real KV.
 * @module
 */
import { parseArgs } from "node:util";
import * as v from "valibot";
import { hashPassword } from "./auth/password.ts";
import { AppError } from "./errors.ts";
import {
  deleteUser,
  findUser,
  listUsers,
  revokeUserSessions,
  setPasswordHash,
  storeStats,
} from "./store/admin.ts";
import { createUser } from "./store/users.ts";
import { parse, RegisterInput } from "./validate.ts";

export const ADMIN_USAGE = `usage: deno task admin <command>
  users [--search TEXT] [--limit N] [--json]   list accounts (search: username or display name)
  create-user USERNAME [--display-name NAME] [--password PW]
                                               create an account (no PW: one is generated and printed)
  reset-password USER                          set a new random password, print it once, sign out everywhere
  revoke-sessions USER                         sign USER out everywhere (open sockets close with 4001)
  delete-user USER --yes                       delete the account (sessions, memberships, record)
  stats [--json]                               users, conversations, messages, sessions, KV size
USER is a username or a user id. KV_PATH selects the store, as for the server.`;

/** A random password an operator passes on once: 16 characters from a 64-symbol alphabet. */
export function generatePassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_");
}

function bytesText(n: number | null): string {
  if (n === null) return "unknown (remote or managed KV)";
  const units = ["B", "KiB", "MiB", "GiB"];
  let i = 0;
  let x = n;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i++;
  }
  return `${i === 0 ? x : x.toFixed(1)} ${units[i]}`;
}

/**
 * Runs one admin command. `out` receives what the operator should see (stdout).
 * @returns the process exit code: 0 done, 1 refused (the reason went to `out`), 2 bad usage.
 * @example
 * await runAdmin(kv, ["reset-password", "alice"], { kvPath, out: console.log });
 */
export async function runAdmin(
  kv: Deno.Kv,
  argv: string[],
  ctx: { kvPath: string; out: (line: string) => void },
): Promise<number> {
  const { out } = ctx;
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        search: { type: "string" },
        limit: { type: "string" },
        json: { type: "boolean" },
        "display-name": { type: "string" },
        password: { type: "string" },
        yes: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    out(`${(err as Error).message}\n${ADMIN_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, arg] = positionals;
  const needUser = () => {
    if (!arg) throw new UsageError(`${command} needs a USER (username or id).`);
    return findUser(kv, arg);
  };
  try {
    switch (command) {
      case "users": {
        const limit = values.limit === undefined ? undefined : Number(values.limit);
        if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
          throw new UsageError("--limit must be a whole number above 0.");
        }
        const users = await listUsers(kv, { search: values.search, limit });
        if (values.json) out(JSON.stringify(users));
        else {
          for (const u of users) {
            out(
              `${u.id}  ${u.username}  "${u.displayName}"  created ${
                new Date(u.createdAt).toISOString()
              }  sessions ${u.sessions}`,
            );
          }
          out(`${users.length} user${users.length === 1 ? "" : "s"}`);
        }
        return 0;
      }
      case "create-user": {
        if (!arg) throw new UsageError("create-user needs a USERNAME.");
        const generated = values.password === undefined;
        const password = values.password ?? generatePassword();
        const input = parse(RegisterInput, {
          username: arg,
          password,
          displayName: values["display-name"],
        });
        const user = await createUser(kv, {
          username: input.username,
          displayName: input.displayName,
          passwordHash: await hashPassword(input.password),
        });
        out(`created ${user.username} (${user.id})`);
        if (generated) out(`password: ${password}`);
        return 0;
      }
      case "reset-password": {
        const user = await needUser();
        const password = generatePassword();
        const { revoked } = await setPasswordHash(kv, user.id, await hashPassword(password));
        out(`password of ${user.username} reset; ${revoked} session(s) revoked`);
        out(`password: ${password}`);
        out("Pass it on privately; it is not stored anywhere and will not be shown again.");
        return 0;
      }
      case "revoke-sessions": {
        const user = await needUser();
        const revoked = await revokeUserSessions(kv, user.id);
        out(`${revoked} session(s) of ${user.username} revoked`);
        return 0;
      }
      case "delete-user": {
        const user = await needUser();
        if (!values.yes) {
          out(`This deletes ${user.username} (${user.id}) for good. Run again with --yes.`);
          return 1;
        }
        const res = await deleteUser(kv, user.id);
        out(
          `deleted ${user.username}: ${res.revoked} session(s) revoked, removed from ` +
            `${res.conversations} conversation(s)`,
        );
        return 0;
      }
      case "stats": {
        const s = await storeStats(kv, ctx.kvPath);
        if (values.json) out(JSON.stringify(s));
        else {
          out(`users          ${s.users}`);
          out(
            `conversations  ${s.conversations.direct + s.conversations.group} ` +
              `(${s.conversations.direct} direct, ${s.conversations.group} groups)`,
          );
          out(`messages       ${s.messages}`);
          out(`sessions       ${s.sessions} live`);
          out(`KV size        ${bytesText(s.kvBytes)}`);
        }
        return 0;
      }
      case undefined:
      case "help":
        out(ADMIN_USAGE);
        return command === undefined && !values.help ? 2 : 0;
      default:
        out(`Unknown command "${command}".\n${ADMIN_USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError) {
      out(`${err.message}\n${ADMIN_USAGE}`);
      return 2;
    }
    if (err instanceof AppError) {
      out(err.field ? `${err.field}: ${err.message}` : err.message);
      return 1;
    }
    if (err instanceof v.ValiError) {
      out(err.message);
      return 1;
    }
    throw err;
  }
}

class UsageError extends Error {}
