import { deepStrictEqual as eq, equal } from "node:assert/strict";
import type { Attachment } from "../lib/protocol.ts";
import { type Uploader, uploadName, Uploads } from "./uploads.ts";

/** An uploader driven by the test: each call is a job the test moves along. */
function scripted() {
  const jobs: {
    name: string;
    progress: (s: number, t: number) => void;
    resolve: (a: Attachment) => void;
    reject: (e: unknown) => void;
    aborted: boolean;
  }[] = [];
  const upload: Uploader = (_conv, _file, name, onProgress) => {
    let resolve!: (a: Attachment) => void, reject!: (e: unknown) => void;
    const done = new Promise<Attachment>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const job = { name, progress: onProgress, resolve, reject, aborted: false };
    jobs.push(job);
    return {
      done,
      abort: () => {
        job.aborted = true;
        reject({ code: "aborted", message: "Upload cancelled." });
      },
    };
  };
  return { jobs, upload };
}

const att = (name: string): Attachment => ({
  id: "a-" + name,
  conversationId: "c1",
  name,
  size: 3,
  type: "application/pdf",
  sha256: "0".repeat(64),
  width: null,
  height: null,
  previewUrl: null,
  url: "/api/attachments/a-" + name,
});

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("an upload shows its progress, then waits for Send, which hands it on with the caption", async () => {
  const { jobs, upload } = scripted();
  const sent: [string, string, string][] = [];
  const ups = new Uploads({ upload, onUploaded: (c, a, cap) => sent.push([c, a.id, cap]) });
  ups.add("c1", new Blob(["abc"]), "report.pdf");
  jobs[0].progress(1, 4);
  eq(ups.of("c1").map((u) => [u.name, u.progress, u.failed, u.ready]), [
    ["report.pdf", 0.25, null, false],
  ]);
  jobs[0].resolve(att("report.pdf"));
  await tick();
  eq(sent, [], "the bytes are up; the message waits for the user");
  eq(ups.attached("c1").map((u) => [u.ready, u.progress]), [[true, 1]]);
  equal(ups.send("c2", "elsewhere"), false, "another conversation has nothing attached");
  equal(ups.send("c1", "the report"), true);
  eq(sent, [["c1", "a-report.pdf", "the report"]]);
  eq(ups.list.value, []);
});

Deno.test("Send before the bytes are up: each file goes when it is up, the caption with the first", async () => {
  const { jobs, upload } = scripted();
  const sent: [string, string][] = [];
  const ups = new Uploads({ upload, onUploaded: (_c, a, cap) => sent.push([a.id, cap]) });
  ups.add("c1", new Blob(["abc"]), "a.png");
  ups.add("c1", new Blob(["abc"]), "b.pdf");
  ups.send("c1", "two files");
  eq(ups.attached("c1"), [], "nothing waits for Send any more");
  jobs[1].resolve(att("b.pdf"));
  await tick();
  eq(sent, [["a-b.pdf", ""]]);
  jobs[0].resolve(att("a.png"));
  await tick();
  eq(sent, [["a-b.pdf", ""], ["a-a.png", "two files"]]);
  // Queued at once (not through the composer): it goes as soon as it is up.
  ups.add("c1", new Blob(["abc"]), "c.txt", { caption: "now", queued: true });
  jobs[2].resolve(att("c.txt"));
  await tick();
  eq(sent.at(-1), ["a-c.txt", "now"]);
});

Deno.test("a failed file does not take the caption; once retried after Send it goes by itself", async () => {
  const { jobs, upload } = scripted();
  const sent: [string, string][] = [];
  const ups = new Uploads({ upload, onUploaded: (_c, a, cap) => sent.push([a.id, cap]) });
  const bad = ups.add("c1", new Blob(["abc"]), "big.bin");
  ups.add("c1", new Blob(["abc"]), "ok.pdf");
  jobs[0].reject({ code: "too_large", message: "Too large." });
  jobs[1].resolve(att("ok.pdf"));
  await tick();
  ups.send("c1", "caption");
  eq(sent, [["a-ok.pdf", "caption"]]);
  ups.retry(bad.localId);
  jobs[2].resolve(att("big.bin"));
  await tick();
  eq(sent, [["a-ok.pdf", "caption"], ["a-big.bin", ""]]);
});

Deno.test("a failed upload keeps its reason until retried, and a retry starts over", async () => {
  const { jobs, upload } = scripted();
  const sent: string[] = [];
  const ups = new Uploads({ upload, onUploaded: (_c, a) => sent.push(a.id) });
  const u = ups.add("c1", new Blob(["abc"]), "big.bin", { queued: true });
  jobs[0].progress(2, 4);
  jobs[0].reject({ code: "too_large", message: "A file may be at most 10 MiB." });
  await tick();
  eq(ups.of("c1").map((x) => x.failed), ["A file may be at most 10 MiB."]);
  ups.retry(u.localId);
  eq(ups.of("c1").map((x) => [x.failed, x.progress]), [[null, 0]]);
  equal(jobs.length, 2);
  jobs[1].resolve(att("big.bin"));
  await tick();
  eq(sent, ["a-big.bin"]);
});

Deno.test("cancel stops the upload and leaves nothing, and a late answer is ignored", async () => {
  const { jobs, upload } = scripted();
  const sent: string[] = [];
  const ups = new Uploads({ upload, onUploaded: (_c, a) => sent.push(a.id) });
  const u = ups.add("c1", new Blob(["abc"]), "x.bin");
  ups.cancel(u.localId);
  equal(jobs[0].aborted, true);
  jobs[0].resolve(att("x.bin"));
  await tick();
  eq([ups.list.value, sent], [[], []]);
});

Deno.test("uploadName() makes any file name one the server takes", () => {
  equal(uploadName("photo.jpg"), "photo.jpg");
  equal(uploadName("  "), "file");
  equal(uploadName("evil\u202Egnp.exe"), "evilgnp.exe");
  const long = "a".repeat(300) + ".pdf";
  const got = uploadName(long);
  equal([...got].length, 255);
  equal(got.endsWith(".pdf"), true);
});
