import { deepStrictEqual as eq, equal } from "node:assert/strict";
import type { ErrorCode } from "./protocol.ts";
import { apiError, AppError, ERROR_TABLE, errorBody, errorFrame, pageError } from "./errors.ts";

const CODES: ErrorCode[] = [
  "invalid_input",
  "unauthorized",
  "forbidden",
  "not_found",
  "username_taken",
  "rate_limited",
  "too_large",
  "conflict",
  "internal",
  "unavailable",
];

Deno.test("the API answers each code with the contract's status and an {error} body", () => {
  const expected = [400, 401, 403, 404, 409, 429, 413, 409, 500, 503];
  eq(CODES.map((code) => apiError(new AppError(code, "m")).status), expected);
  eq(apiError(new AppError("invalid_input", "title is required.", { field: "title" })).body, {
    error: { code: "invalid_input", message: "title is required.", field: "title" },
  });
});

Deno.test("rate_limited carries retryAfterMs and a Retry-After in whole seconds, rounded up", () => {
  const e = apiError(new AppError("rate_limited", "Slow down.", { retryAfterMs: 1500 }));
  eq(e.body.error, { code: "rate_limited", message: "Slow down.", retryAfterMs: 1500 });
  eq(e.headers, { "Retry-After": "2" });
  eq(apiError(new AppError("rate_limited", "Slow down.")).headers, {}, "no wait known, no header");
  eq(apiError(new AppError("forbidden", "No.")).headers, {});
});

Deno.test("anything that is not an AppError is internal and leaks nothing of itself", () => {
  const e = apiError(new Error("database password is hunter2"));
  equal(e.status, 500);
  eq(e.body.error, {
    code: "internal",
    message: "Something went wrong on our side. Please try again.",
  });
  eq(errorBody("a string"), e.body.error);
});

Deno.test("an error frame answers the frame it names, with the same body as the API", () => {
  const err = new AppError("not_found", "That conversation does not exist.");
  eq(errorFrame(err, { id: "m1" }), {
    type: "error",
    id: "m1",
    error: { code: "not_found", message: "That conversation does not exist." },
  });
  eq(errorFrame(err, { reqId: "r1" }).reqId, "r1");
  eq(errorFrame(new TypeError("x")).error.code, "internal");
});

Deno.test("pages show refusals as sentences beside their field, with the page status", () => {
  eq(pageError(new AppError("invalid_input", "username must be text.", { field: "username" })), {
    code: "invalid_input",
    status: 400,
    field: "username",
    message: "Username must be text.",
  });
  const limited = pageError(new AppError("rate_limited", "Too many.", { retryAfterMs: 5 }))!;
  eq([limited.status, limited.field], [429, "form"]);
  equal(pageError(new AppError("unauthorized", "No match."))!.status, 401);
  equal(pageError(new AppError("username_taken", "Taken."))!.status, 400);
  // A page never tells "not yours" from "not there".
  equal(pageError(new AppError("forbidden", "Not yours."))!.status, 404);
  equal(pageError(new AppError("not_found", "Not there."))!.status, 404);
});

Deno.test("pages do not show internal failures or foreign errors: the caller rethrows them", () => {
  equal(pageError(new AppError("internal", "x")), null);
  equal(pageError(new Error("x")), null);
});

Deno.test("every code has a row in the table", () => {
  eq(Object.keys(ERROR_TABLE).sort(), [...CODES].sort());
});

Deno.test("unavailable (a server draining for a restart) is 503 and says when to come back", () => {
  const res = apiError(new AppError("unavailable", "restarting", { retryAfterMs: 1000 }));
  equal(res.status, 503);
  equal(res.headers["Retry-After"], "1");
});
