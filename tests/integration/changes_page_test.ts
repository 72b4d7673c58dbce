/**
 * The page without script shows message changes as they are now: an edited message carries
 * "edited", a deleted one "Message deleted" and nothing of its body, group changes read as lines.
 */
import { deepStrictEqual as eq, ok } from "node:assert/strict";
import { api, getPage, register, startServer } from "../helpers/server.ts";

Deno.test("the server-rendered conversation shows edited and deleted messages and group changes", async () => {
  const srv = await startServer();
  try {
    const [ann, bea] = await Promise.all([register(srv.url), register(srv.url)]);
    const g = await api(srv.url, "POST", "/api/conversations", {
      token: ann.accessToken,
      body: { kind: "group", title: "Crew", memberIds: [bea.user.id] },
    });
    const convId = g.body.conversation.id;
    const base = `/api/conversations/${convId}/messages`;
    const send = async (body: string) =>
      (await api(srv.url, "POST", base, {
        token: ann.accessToken,
        body: { id: crypto.randomUUID(), body },
      })).body.seq as number;
    const keep = await send("first try");
    const drop = await send("GONE-BODY-4411");
    await api(srv.url, "PATCH", `${base}/${keep}`, {
      token: ann.accessToken,
      body: { id: crypto.randomUUID(), body: "second try" },
    });
    await api(srv.url, "DELETE", `${base}/${drop}?id=${crypto.randomUUID()}`, {
      token: ann.accessToken,
    });
    const page = await getPage(srv, `/chat/${convId}`, bea.cookie);
    eq(page.status, 200);
    ok(page.text.includes("second try") && !page.text.includes("first try"));
    ok(page.text.includes('data-testid="message-edited"'), "the edit is marked");
    ok(page.text.includes("Message deleted"));
    ok(!page.text.includes("GONE-BODY-4411"), "nothing of the deleted body");
    ok(page.text.includes("created the group"), "the creation reads as a line");
  } finally {
    await srv.close();
  }
});
