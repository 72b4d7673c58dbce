/**
 * Input schemas (valibot) for HTTP bodies, and `parse`, which checks any input (HTTP bodies and
 * WebSocket frames, whose schema is part of the contract in protocol.ts) and turns the first
 * issue into an `invalid_input` error that names the field. Every limit a message quotes comes
 * from `LIMITS`.
 * @module
 */
import * as v from "valibot";
import { AppError } from "./errors.ts";
import { ClientFrameSchema, count, field, LIMITS } from "./protocol.ts";
import { wellFormed } from "./unicode.ts";

/** Re-exported: every schema `parse` is used with can be imported from here. */
export { ClientFrameSchema };

const username = v.pipe(
  v.string("username must be text."),
  v.trim(),
  v.toLowerCase(),
  v.regex(
    new RegExp(`^[a-z0-9_]{${LIMITS.usernameMin},${LIMITS.usernameMax}}$`),
    `username must be ${LIMITS.usernameMin} to ${LIMITS.usernameMax} characters: letters, digits or underscores.`,
  ),
);
const password = v.pipe(
  v.string("password must be text."),
  v.minLength(LIMITS.passwordMin, `password must be at least ${LIMITS.passwordMin} characters.`),
  v.maxLength(LIMITS.passwordMax, `password must be at most ${LIMITS.passwordMax} characters.`),
);
const displayName = v.optional(
  v.pipe(
    v.string("displayName must be text."),
    wellFormed("displayName"),
    v.trim(),
    v.maxLength(
      LIMITS.displayNameMax,
      `displayName must be at most ${LIMITS.displayNameMax} characters.`,
    ),
  ),
);

export const RegisterInput = v.object({ username, password, displayName });
/**
 * Sign-in checks less than sign-up: a name that could never be registered is simply not found
 * (the same answer as a wrong password), so only absurd lengths are refused here.
 */
export const LoginInput = v.object({
  username: v.pipe(
    v.string("username must be text."),
    wellFormed("username"),
    v.trim(),
    v.toLowerCase(),
    v.maxLength(2 * LIMITS.usernameMax),
  ),
  password: v.pipe(v.string("password must be text."), v.maxLength(LIMITS.passwordMax)),
});
export const RefreshInput = v.object({
  refreshToken: v.optional(v.pipe(v.string(), wellFormed("refreshToken"))),
});

const title = v.pipe(
  v.string("title must be text."),
  v.trim(),
  v.minLength(1, "title is required."),
  v.maxLength(LIMITS.titleMax, `title must be at most ${LIMITS.titleMax} characters.`),
);

export const CreateConversationInput = v.variant("kind", [
  v.object({ kind: v.literal("direct"), userId: field.id("userId") }),
  v.object({
    kind: v.literal("group"),
    title,
    memberIds: v.pipe(
      v.array(field.id("memberIds[]"), "memberIds must be a list of user ids."),
      v.maxLength(
        LIMITS.groupMaxMembers,
        `a group has at most ${count(LIMITS.groupMaxMembers)} members.`,
      ),
    ),
  }),
], 'kind must be "direct" or "group".');
export const TitleInput = v.object({ title });
export const AddMemberInput = v.object({ userId: field.id("userId") });
export const RoleInput = v.object({
  role: v.picklist(["admin", "member"], 'role must be "admin" or "member".'),
});
export const SendInput = v.object({
  id: field.id("id"),
  body: field.body(),
  kind: field.kind(),
  attachmentId: v.optional(field.id("attachmentId")),
  replyTo: v.optional(field.seq("replyTo")),
});
/** `PATCH /api/conversations/:id/messages/:seq`. */
export const EditInput = v.object({ id: field.id("id"), body: field.body() });
/** `POST /api/conversations/:id/messages/:seq/reactions`. */
export const ReactInput = v.object({
  id: field.id("id"),
  emoji: field.emoji(),
  on: v.boolean("on must be true or false."),
});
/** The client id of a change carried in a query (`DELETE …/messages/:seq?id=`). */
export const ChangeIdInput = v.object({ id: field.id("id") });
export const ReadInput = v.object({ seq: field.seq("seq") });

/**
 * What the schema cannot say alone: a text message has a body that is not blank and no
 * attachment; an image or a file names its upload (its body is an optional caption).
 * @throws AppError `invalid_input` naming `body` or `attachmentId`.
 */
export function checkSendShape(
  input: { body?: string; kind?: string; attachmentId?: string },
): void {
  const bad = (field: string, message: string) => new AppError("invalid_input", message, { field });
  if (input.kind === undefined || input.kind === "text") {
    if (input.attachmentId !== undefined) {
      throw bad(
        "attachmentId",
        'A text message carries no attachment: use kind "image" or "file".',
      );
    }
    if (input.body === undefined) throw bad("body", "body is required.");
    if (!input.body.trim()) throw bad("body", "body must not be empty.");
  } else if (input.attachmentId === undefined) {
    throw bad("attachmentId", "attachmentId is required: upload the file first.");
  }
}

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
  throw new AppError("invalid_input", issueMessage(issue, field), field ? { field } : {});
}

function issueMessage(issue: v.BaseIssue<unknown>, field: string | undefined): string {
  return issue.input === undefined && field
    ? `${field} is required.`
    : issue.message.match(/^[a-zA-Z]/) && field && !issue.message.startsWith(field.split(".")[0])
    ? `${field}: ${issue.message}`
    : issue.message;
}

/** Every field's first problem at once (worded as `parse` words it), or null when the input is
 * valid: a form shows all its errors together rather than one per attempt. */
export function fieldErrors(
  schema: v.GenericSchema,
  input: unknown,
): Record<string, string> | null {
  const result = v.safeParse(schema, input);
  if (result.success) return null;
  const out: Record<string, string> = {};
  for (const issue of result.issues) {
    const field = v.getDotPath(issue) ?? "form";
    out[field] ??= issueMessage(issue, field === "form" ? undefined : field);
  }
  return out;
}
