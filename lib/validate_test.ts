import { deepStrictEqual as eq, throws } from "node:assert/strict";
import { AppError } from "./errors.ts";
import { LIMITS } from "./protocol.ts";
import {
  AddMemberInput,
  checkSendShape,
  ClientFrameSchema,
  CreateConversationInput,
  LoginInput,
  parse,
  ReadInput,
  RefreshInput,
  RegisterInput,
  RoleInput,
  SendInput,
  TitleInput,
} from "./validate.ts";

/** Asserts that `parse` refuses `input` with `invalid_input`, naming `field`, saying `message`. */
function refuses(
  schema: Parameters<typeof parse>[0],
  input: unknown,
  field: string | undefined,
  message: string,
) {
  throws(() => parse(schema, input), (err: unknown) => {
    eq(err instanceof AppError, true);
    const e = err as AppError;
    eq({ code: e.code, field: e.field, message: e.message }, {
      code: "invalid_input",
      field,
      message,
    });
    return true;
  });
}

Deno.test("RegisterInput trims and lower-cases the username and refuses bad fields by name", () => {
  eq(parse(RegisterInput, { username: " Alice_1 ", password: "12345678" }), {
    username: "alice_1",
    password: "12345678",
  });
  eq(
    parse(RegisterInput, { username: "bob", password: "12345678", displayName: " Bob " })
      .displayName,
    "Bob",
  );
  const rule = "username must be 3 to 32 characters: letters, digits or underscores.";
  refuses(RegisterInput, { username: "al", password: "12345678" }, "username", rule);
  refuses(RegisterInput, { username: "a".repeat(33), password: "12345678" }, "username", rule);
  refuses(RegisterInput, { username: "al ice", password: "12345678" }, "username", rule);
  refuses(RegisterInput, { password: "12345678" }, "username", "username is required.");
  refuses(
    RegisterInput,
    { username: 5, password: "12345678" },
    "username",
    "username must be text.",
  );
  refuses(
    RegisterInput,
    { username: "alice", password: "1234567" },
    "password",
    "password must be at least 8 characters.",
  );
  refuses(
    RegisterInput,
    { username: "alice", password: "x".repeat(LIMITS.passwordMax + 1) },
    "password",
    "password must be at most 256 characters.",
  );
  refuses(
    RegisterInput,
    { username: "alice", password: "12345678", displayName: "d".repeat(65) },
    "displayName",
    "displayName must be at most 64 characters.",
  );
});

Deno.test("LoginInput accepts any plausible name and refuses missing or absurd fields", () => {
  eq(parse(LoginInput, { username: " ALICE ", password: "x" }), {
    username: "alice",
    password: "x",
  });
  refuses(LoginInput, { username: "alice" }, "password", "password is required.");
  refuses(LoginInput, { username: [], password: "x" }, "username", "username must be text.");
  throws(() => parse(LoginInput, { username: "a".repeat(65), password: "x" }), AppError);
});

Deno.test("RefreshInput takes an optional refresh token", () => {
  eq(parse(RefreshInput, {}), {});
  eq(parse(RefreshInput, { refreshToken: "t" }), { refreshToken: "t" });
});

Deno.test("CreateConversationInput: direct needs a userId, a group a title and member ids", () => {
  eq(parse(CreateConversationInput, { kind: "direct", userId: "u1" }), {
    kind: "direct",
    userId: "u1",
  });
  eq(parse(CreateConversationInput, { kind: "group", title: " Team ", memberIds: ["a"] }), {
    kind: "group",
    title: "Team",
    memberIds: ["a"],
  });
  refuses(
    CreateConversationInput,
    { kind: "room" },
    "kind",
    'kind must be "direct" or "group".',
  );
  refuses(CreateConversationInput, { kind: "direct" }, "userId", "userId is required.");
  refuses(
    CreateConversationInput,
    { kind: "direct", userId: "x".repeat(101) },
    "userId",
    "userId is too long.",
  );
  refuses(
    CreateConversationInput,
    { kind: "group", title: "t", memberIds: "a" },
    "memberIds",
    "memberIds must be a list of user ids.",
  );
  refuses(
    CreateConversationInput,
    { kind: "group", title: "t", memberIds: Array(LIMITS.groupMaxMembers + 1).fill("u") },
    "memberIds",
    "memberIds: a group has at most 5,000 members.",
  );
});

Deno.test("TitleInput, AddMemberInput, RoleInput and ReadInput name the field at fault", () => {
  eq(parse(TitleInput, { title: " New " }), { title: "New" });
  refuses(TitleInput, { title: "  " }, "title", "title is required.");
  refuses(TitleInput, { title: "t".repeat(101) }, "title", "title must be at most 100 characters.");
  eq(parse(AddMemberInput, { userId: "u" }), { userId: "u" });
  refuses(AddMemberInput, { userId: "" }, "userId", "userId is required.");
  eq(parse(RoleInput, { role: "admin" }), { role: "admin" });
  refuses(RoleInput, { role: "owner" }, "role", 'role must be "admin" or "member".');
  eq(parse(ReadInput, { seq: 3 }), { seq: 3 });
  refuses(ReadInput, { seq: 1.5 }, "seq", "seq must be a whole number.");
  refuses(ReadInput, { seq: -1 }, "seq", "seq must be 0 or more.");
  refuses(ReadInput, { seq: "3" }, "seq", "seq must be a number.");
});

Deno.test("SendInput and checkSendShape: a text of 1 to 4,000 code points, or an attachment with an optional caption", () => {
  const emoji = "😀".repeat(LIMITS.bodyMaxCodePoints); // 8,000 UTF-16 units, 4,000 code points
  eq(parse(SendInput, { id: "m1", body: emoji }).body, emoji);
  refuses(
    SendInput,
    { id: "m1", body: "x".repeat(LIMITS.bodyMaxCodePoints + 1) },
    "body",
    "body must be at most 4,000 characters.",
  );
  refuses(
    SendInput,
    { id: "m1", body: "hi", kind: "video" },
    "kind",
    'kind must be "text", "image" or "file".',
  );
  refuses(SendInput, { body: "hi" }, "id", "id is required.");
  // What the schema lets through and the send path's shape check refuses.
  const shape = (input: Record<string, unknown>, field: string, message: string) =>
    throws(
      () => checkSendShape(parse(SendInput, input)),
      (e) => e instanceof AppError && e.field === field && e.message === message,
    );
  shape({ id: "m1", body: " \n " }, "body", "body must not be empty.");
  shape({ id: "m1" }, "body", "body is required.");
  shape(
    { id: "m1", body: "hi", kind: "image" },
    "attachmentId",
    "attachmentId is required: upload the file first.",
  );
  shape(
    { id: "m1", body: "hi", attachmentId: "a1" },
    "attachmentId",
    'A text message carries no attachment: use kind "image" or "file".',
  );
  // A caption may be absent or blank.
  checkSendShape(parse(SendInput, { id: "m1", kind: "file", attachmentId: "a1" }));
  checkSendShape(parse(SendInput, { id: "m1", kind: "image", attachmentId: "a1", body: "" }));
});

Deno.test("ClientFrameSchema accepts each frame type and refuses unknown types and bad fields", () => {
  eq(parse(ClientFrameSchema, { type: "ping" }), { type: "ping" });
  eq(parse(ClientFrameSchema, { type: "read", conversationId: "c", seq: 0, reqId: "r" }), {
    type: "read",
    conversationId: "c",
    seq: 0,
    reqId: "r",
  });
  eq(parse(ClientFrameSchema, { type: "sync", conversationId: "c", afterSeq: 2 }).type, "sync");
  eq(parse(ClientFrameSchema, { type: "typing", conversationId: "c" }).type, "typing");
  eq(
    parse(ClientFrameSchema, { type: "send", id: "m", conversationId: "c", body: "hi" }).type,
    "send",
  );
  refuses(
    ClientFrameSchema,
    { type: "shout" },
    "type",
    "type must be one of send, edit, delete, react, sync, read, typing, ping.",
  );
  refuses(
    ClientFrameSchema,
    { type: "sync", conversationId: "c", afterSeq: 0, limit: 0 },
    "limit",
    "limit must be at least 1.",
  );
  refuses(
    ClientFrameSchema,
    { type: "send", id: "m", body: "hi" },
    "conversationId",
    "conversationId is required.",
  );
  refuses(
    ClientFrameSchema,
    { type: "ping", reqId: 7 },
    "reqId",
    "reqId must be a string.",
  );
});
