/**
 * Input schemas (valibot) for HTTP bodies and WebSocket frames. `parse` turns the first issue
 * into an `invalid_input` error that names the field.
 * @module
 */
import * as v from "valibot";
import { AppError } from "./errors.ts";
import { LIMITS } from "./protocol.ts";
import { wellFormed } from "./unicode.ts";

const username = v.pipe(
  v.string("username must be text."),
  v.trim(),
  v.toLowerCase(),
  v.regex(
    /^[a-z0-9_]{3,32}$/,
    "username must be 3 to 32 characters: letters, digits or underscores.",
  ),
);
const password = v.pipe(
  v.string("password must be text."),
  v.minLength(LIMITS.passwordMin, "password must be at least 8 characters."),
  v.maxLength(LIMITS.passwordMax, "password must be at most 256 characters."),
);
const displayName = v.optional(
  v.pipe(
    v.string("displayName must be text."),
    wellFormed("displayName"),
    v.trim(),
    v.maxLength(LIMITS.displayNameMax, "displayName must be at most 64 characters."),
  ),
);

export const RegisterInput = v.object({ username, password, displayName });
export const LoginInput = v.object({
  username: v.pipe(
    v.string("username must be text."),
    wellFormed("username"),
    v.trim(),
    v.toLowerCase(),
    v.maxLength(64),
  ),
  password: v.pipe(v.string("password must be text."), v.maxLength(LIMITS.passwordMax)),
});
export const RefreshInput = v.object({
  refreshToken: v.optional(v.pipe(v.string(), wellFormed("refreshToken"))),
});

const id = (name: string) =>
  v.pipe(
    v.string(`${name} must be a string.`),
    v.minLength(1, `${name} is required.`),
    v.maxLength(100, `${name} is too long.`),
    wellFormed(name),
  );
const seq = (name: string) =>
  v.pipe(
    v.number(`${name} must be a number.`),
    v.integer(`${name} must be a whole number.`),
    v.minValue(0, `${name} must be 0 or more.`),
  );
const body = v.pipe(
  v.string("body must be text."),
  v.check((s) => s.trim().length > 0, "body must not be empty."),
  v.check(
    (s) => s.length <= LIMITS.bodyMaxCodePoints || [...s].length <= LIMITS.bodyMaxCodePoints,
    "body must be at most 4,000 characters.",
  ),
);
const kind = v.optional(
  v.picklist(["text"], 'kind must be "text" (attachments are not supported yet).'),
);
const title = v.pipe(
  v.string("title must be text."),
  v.trim(),
  v.minLength(1, "title is required."),
  v.maxLength(LIMITS.titleMax, "title must be at most 100 characters."),
);

export const CreateConversationInput = v.variant("kind", [
  v.object({ kind: v.literal("direct"), userId: id("userId") }),
  v.object({
    kind: v.literal("group"),
    title,
    memberIds: v.pipe(
      v.array(id("memberIds[]"), "memberIds must be a list of user ids."),
      v.maxLength(LIMITS.groupMaxMembers, "a group has at most 5,000 members."),
    ),
  }),
], 'kind must be "direct" or "group".');
export const TitleInput = v.object({ title });
export const AddMemberInput = v.object({ userId: id("userId") });
export const RoleInput = v.object({
  role: v.picklist(["admin", "member"], 'role must be "admin" or "member".'),
});
export const SendInput = v.object({ id: id("id"), body, kind });
export const ReadInput = v.object({ seq: seq("seq") });

const reqId = v.optional(v.pipe(v.string("reqId must be a string."), v.maxLength(100)));
export const ClientFrameSchema = v.variant("type", [
  v.object({
    type: v.literal("send"),
    id: id("id"),
    conversationId: id("conversationId"),
    body,
    kind,
  }),
  v.object({
    type: v.literal("sync"),
    conversationId: id("conversationId"),
    afterSeq: seq("afterSeq"),
    limit: v.optional(v.pipe(seq("limit"), v.minValue(1, "limit must be at least 1."))),
    reqId,
  }),
  v.object({
    type: v.literal("read"),
    conversationId: id("conversationId"),
    seq: seq("seq"),
    reqId,
  }),
  v.object({ type: v.literal("typing"), conversationId: id("conversationId"), reqId }),
  v.object({ type: v.literal("ping"), reqId }),
], "type must be one of send, sync, read, typing, ping.");

/**
 * Validates input against a schema.
 * @throws AppError `invalid_input` naming the first field at fault.
 */
export function parse<const S extends v.GenericSchema>(
  schema: S,
  input: unknown,
): v.InferOutput<S> {
  const result = v.safeParse(schema, input);
  if (result.success) return result.output;
  const issue = result.issues[0];
  const field = v.getDotPath(issue) ?? undefined;
  const message = issue.input === undefined && field
    ? `${field} is required.`
    : issue.message.match(/^[a-zA-Z]/) && field && !issue.message.startsWith(field.split(".")[0])
    ? `${field}: ${issue.message}`
    : issue.message;
  throw new AppError("invalid_input", message, field ? { field } : {});
}
