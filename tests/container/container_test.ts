/**
 * The container for real: builds the image from the Dockerfile, runs it on a fresh volume,
 * signs up and sends a message through it, stops it with SIGTERM (it must exit by itself,
 * cleanly, well before the engine's SIGKILL), and starts a new container on the same volume,
 * where the account and the message are still there.
 *
 * It takes a few minutes (an image build that downloads npm packages), so it runs only with
 * `CONTAINER_TEST=1` (CI sets it; `deno task ok` on a workstation does not), and it is skipped,
 * saying why, when no container engine or base image is there.
 */
// deno-lint-ignore-file no-console no-explicit-any
import { deepStrictEqual as eq, equal, ok } from "node:assert/strict";
import { api, register, WsClient } from "../helpers/server.ts";
import { freePort, root } from "../helpers/net.ts";

/** The CA bundle of a TLS-inspecting egress proxy, passed to the build when present. */
const CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
/** The Dockerfile's base, at the version the README pins. */
const BASE_IMAGE = "docker.io/denoland/deno:2.9.6";

async function run(cmd: string[], opts: { check?: boolean } = {}) {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  const res = { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  if (opts.check !== false && res.code !== 0) {
    throw new Error(`${cmd.join(" ")} failed (${res.code}): ${res.stderr.slice(-2000)}`);
  }
  return res;
}

/** The first container engine that answers, or why none does. */
async function findEngine(): Promise<{ engine: string } | { reason: string }> {
  for (const engine of ["podman", "docker"]) {
    try {
      const res = await run([engine, "info"], { check: false });
      if (res.code !== 0) continue;
      // No registry may be reachable: without the base image here the build cannot start.
      const base = await run([engine, "image", "inspect", BASE_IMAGE], { check: false });
      if (base.code !== 0) {
        return {
          reason: `${engine} works but has no ${BASE_IMAGE} (../shared/tools/container-setup ` +
            `builds it where no registry is reachable)`,
        };
      }
      return { engine };
    } catch { /* not installed */ }
  }
  return { reason: "no working podman or docker (../shared/tools/container-setup sets podman up)" };
}

const wanted = Deno.env.get("CONTAINER_TEST") === "1";
const found = wanted ? await findEngine() : { reason: "set CONTAINER_TEST=1 to run it" };
if ("reason" in found) console.error(`container test skipped: ${found.reason}`);

async function waitHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(`${url}/health`);
      await res.body?.cancel();
      if (res.ok) return;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error(`${url}/health did not answer in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

Deno.test({
  name: "the container builds, serves, stops on SIGTERM and keeps its data on the volume",
  ignore: "reason" in found,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const engine = (found as { engine: string }).engine;
    const id = crypto.randomUUID().slice(0, 8);
    const tag = `parley-test-${id}`;
    const volume = `parley-test-${id}`;
    const names: string[] = [];
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const start = async (name: string) => {
      names.push(name);
      await run([
        engine,
        "run",
        "-d",
        "--name",
        name,
        "--network",
        "host",
        "-e",
        `PORT=${port}`,
        "-e",
        "HOST=127.0.0.1",
        "-v",
        `${volume}:/data`,
        tag,
      ]);
      await waitHealthy(url);
    };
    try {
      const build = [engine, "build", "--network", "host", "-t", tag];
      if (engine === "podman") build.push("--format", "docker");
      try {
        await Deno.stat(CA_BUNDLE);
        build.push("--secret", `id=ca,src=${CA_BUNDLE}`);
      } catch { /* no custom CA on this machine */ }
      await run([...build, "."]);
      await run([engine, "volume", "create", volume]);

      await start(`${tag}-a`);
      const inspect = JSON.parse((await run([engine, "image", "inspect", tag])).stdout)[0];
      equal(inspect.Config.User, "deno", "the server runs as a non-root user");
      // Docker keeps it under Config, podman at the top level.
      const health = inspect.Config?.Healthcheck ?? inspect.Healthcheck;
      ok(health?.Test?.join(" ").includes("healthcheck.ts"), "a HEALTHCHECK is declared");
      equal((await run([engine, "exec", `${tag}-a`, "id", "-u"])).stdout.trim() !== "0", true);
      if (engine === "podman") {
        equal((await run([engine, "healthcheck", "run", `${tag}-a`], { check: false })).code, 0);
      }
      const [ann, bob] = [
        await register(url, `ctr_ann_${id}`, "container-pw-1"),
        await register(url, `ctr_bob_${id}`, "container-pw-2"),
      ];
      const direct = await api(url, "POST", "/api/conversations", {
        token: ann.accessToken,
        body: { kind: "direct", userId: bob.user.id },
      });
      const convId = direct.body.conversation.id;
      const ws = await WsClient.connect(url.replace("http", "ws") + "/api/ws", ann.accessToken);
      const ack = await ws.sendAcked(convId, "hello from inside the container");
      equal(ack.type, "ack");

      // SIGTERM, with SIGKILL only after 20 s: the server must leave by itself, cleanly.
      const t0 = Date.now();
      await run([engine, "stop", "-t", "20", `${tag}-a`]);
      const stoppedIn = Date.now() - t0;
      equal((await ws.closed).code, 1001, "sockets are closed as 'going away'");
      const state = JSON.parse((await run([engine, "inspect", `${tag}-a`])).stdout)[0].State;
      equal(state.ExitCode, 0, "exit 0, not 137 (killed)");
      ok(stoppedIn < 15_000, `stopped by itself (${stoppedIn} ms), not by the engine's SIGKILL`);

      await start(`${tag}-b`);
      const login = await api(url, "POST", "/api/auth/login", {
        body: { username: `ctr_bob_${id}`, password: "container-pw-2" },
      });
      equal(login.status, 200);
      const history = await api(url, "GET", `/api/conversations/${convId}/messages`, {
        token: login.body.accessToken,
      });
      eq(history.body.messages.map((m: any) => [m.seq, m.body]), [
        [ack.seq, "hello from inside the container"],
      ]);
    } finally {
      for (const name of names) await run([engine, "rm", "-f", name], { check: false });
      await run([engine, "volume", "rm", "-f", volume], { check: false });
      await run([engine, "rmi", "-f", tag], { check: false });
    }
  },
});
