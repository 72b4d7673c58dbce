import { equal, throws } from "node:assert/strict";
import { AppError } from "../errors.ts";
import { checkName, fileType } from "./service.ts";

const refusedName = (name: string | undefined) =>
  throws(() => checkName(name), (e) => e instanceof AppError && e.field === "name");

Deno.test("checkName() takes 1 to 255 code points and refuses what could hide or break a name", () => {
  equal(checkName("report.pdf"), "report.pdf");
  equal(checkName("😀".repeat(255)), "😀".repeat(255));
  refusedName(undefined);
  refusedName("");
  refusedName("x".repeat(256));
  refusedName("😀".repeat(256));
  refusedName("\uD800.txt"); // a lone surrogate: not well-formed
  refusedName("line\nbreak");
  refusedName("nul\u0000");
  refusedName("del\u007f");
  refusedName("invoice\u202Efdp.exe"); // right-to-left override
  refusedName("a\u2066b"); // left-to-right isolate
});

Deno.test("fileType() keeps a declared type for display but never an image type", () => {
  equal(fileType("application/pdf"), "application/pdf");
  equal(fileType("Text/Plain; charset=utf-8"), "text/plain");
  equal(fileType("image/png"), "application/octet-stream");
  equal(fileType("image/svg+xml"), "application/octet-stream");
  equal(fileType(undefined), "application/octet-stream");
  equal(fileType("not a type"), "application/octet-stream");
  equal(fileType("text/html\r\nx-evil: 1"), "application/octet-stream");
});
