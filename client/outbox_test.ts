import { deepStrictEqual as eq } from "node:assert/strict";
import type { ClientFrame } from "../lib/protocol.ts";
import { type KeyStorage, Outbox, type Outgoing, PENDING_KEY, RESEND_MS } from "./outbox.ts";

/** The tab's session storage as the outbox sees it, over a plain Map. */
class MemoryStorage implements KeyStorage {
  map = new Map<string, string>();
  get length() {
    return this.map.size;
  }
  key(i: number) {
    return [...this.map.keys()][i] ?? null;
  }
  getItem(k: string) {
    return this.map.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.map.set(k, v);
  }
  removeItem(k: string) {
    this.map.delete(k);
  }
}

/** An outbox on a socket that is open or not, with a clock the test moves. */
function setup(open = true) {
  const wire: ClientFrame[] = [];
  const shown = new Map<string, Outgoing[]>();
  const clock = { now: 1_000, open };
  let n = 0;
  const outbox = new Outbox({
    transport: (f) => clock.open && wire.push(f) > 0,
    onChange: (c, list) => shown.set(c, list),
    now: () => clock.now,
    newId: () => `id${++n}`,
  });
  const ids = () => wire.map((f) => f.type === "send" ? f.id : f.type);
  return { outbox, wire, shown, clock, ids };
}

Deno.test("a send is shown at once and goes out once until it is due again", () => {
  const { outbox, shown, clock, ids } = setup();
  outbox.add("c1", "hi");
  eq(shown.get("c1")!.map((o) => [o.id, o.body, o.failed]), [["id1", "hi", null]]);
  eq(ids(), ["id1"]);
  outbox.flush();
  eq(ids(), ["id1"]);
  clock.now += RESEND_MS;
  outbox.flush();
  eq(ids(), ["id1", "id1"], "unacked: resent with the same id");
});

Deno.test("a send made while offline goes out when a socket is ready", () => {
  const { outbox, shown, clock, ids } = setup(false);
  outbox.add("c1", "hi");
  eq(ids(), []);
  eq(shown.get("c1")!.length, 1);
  clock.open = true;
  outbox.reset();
  eq(ids(), ["id1"]);
  // A new socket: what went out on the old one may be lost, so it goes again at once.
  outbox.reset();
  eq(ids(), ["id1", "id1"]);
});

Deno.test("an acked send leaves the pending list", () => {
  const { outbox, shown } = setup();
  outbox.add("c1", "a");
  outbox.add("c1", "b");
  eq(outbox.find("c1", "id1")?.body, "a");
  outbox.delivered("c1", new Set(["id1", "other"]));
  eq(shown.get("c1")!.map((o) => o.id), ["id2"]);
  eq(outbox.find("c1", "id1"), undefined);
});

Deno.test("a refused send is marked failed and waits for retry", () => {
  const { outbox, shown, clock, ids } = setup();
  outbox.add("c1", "too long");
  outbox.refused("id1", { code: "too_large", message: "Too long." });
  eq(shown.get("c1")![0].failed, "Too long.");
  clock.now += RESEND_MS * 10;
  outbox.flush();
  eq(ids(), ["id1"], "failed sends are not resent on their own");
  outbox.retry("c1", "id1");
  eq(shown.get("c1")![0].failed, null);
  eq(ids(), ["id1", "id1"]);
});

Deno.test("a rate-limited send goes again after the wait the server asked for", () => {
  const { outbox, clock, ids } = setup();
  outbox.add("c1", "hi");
  outbox.refused("id1", { code: "rate_limited", message: "Slow down.", retryAfterMs: 10_000 });
  clock.now += RESEND_MS;
  outbox.flush();
  eq(ids(), ["id1"]);
  clock.now += 10_000 - RESEND_MS;
  outbox.flush();
  eq(ids(), ["id1", "id1"]);
});

Deno.test("pending sends are mirrored to storage and restored with their ids", () => {
  const storage = new MemoryStorage();
  const first = setup();
  first.outbox.attach(storage, () => true, () => new Set());
  first.outbox.add("c1", "a");
  first.outbox.add("c1", "b");
  first.outbox.add("c2", "c");
  first.outbox.delivered("c2", new Set(["id3"]));
  eq([...storage.map.keys()], [PENDING_KEY + "c1"], "an emptied list leaves storage");

  // The tab reloads: the page already shows "a" (acked, its ack lost), "b" goes again.
  const next = setup();
  next.outbox.attach(storage, (c) => c === "c1", () => new Set(["id1"]));
  eq(next.shown.get("c1")!.map((o) => [o.id, o.body, o.sentAt]), [["id2", "b", 0]]);
  next.outbox.reset();
  eq(next.ids(), ["id2"]);
});

Deno.test("restoring drops what belongs to conversations we left, and unreadable data", () => {
  const storage = new MemoryStorage();
  storage.setItem(PENDING_KEY + "gone", JSON.stringify([{ id: "x", body: "lost" }]));
  storage.setItem(PENDING_KEY + "bad", "{not json");
  storage.setItem("parley:draft:c1", "kept");
  const { outbox, shown } = setup();
  outbox.attach(storage, (c) => c === "bad", () => new Set());
  eq([...storage.map.keys()], ["parley:draft:c1"]);
  eq([...shown.values()].flat(), []);
});

Deno.test("leaving a conversation drops its sends, from storage too", () => {
  const storage = new MemoryStorage();
  const { outbox, clock, ids } = setup(false);
  outbox.attach(storage, () => true, () => new Set());
  outbox.add("c1", "a");
  outbox.drop("c1");
  eq(storage.map.size, 0);
  clock.open = true;
  outbox.reset();
  eq(ids(), []);
});
