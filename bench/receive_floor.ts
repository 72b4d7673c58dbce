/**
 * What it costs one process just to receive WebSocket frames, with no parsing and no counting:
 * the floor under the load generator's CPU. A broadcaster (pinned to core 0) sends one fixed
 * text (an array of 10 `message` frames, as Parley coalesces them) to each of N sockets every
 * `--gap` ms; a receiver (pinned to core 1) holds the N sockets and only counts arrivals. Prints
 * the receiver's CPU (user, system) per 1,000 frames a second.
 *
 *   deno run -A bench/receive_floor.ts --sockets 1000 --gap 20 --seconds 5
 * @module
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { freePort, killAllNow, spawn, stopAll } from "./proc.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    role: { type: "string" },
    port: { type: "string" },
    sockets: { type: "string", default: "1000" },
    gap: { type: "string", default: "20" },
    seconds: { type: "string", default: "5" },
  },
});
const sockets = Number(values.sockets);
const gap = Number(values.gap);
const seconds = Number(values.seconds);

const out = (line: string) => Deno.stdout.write(new TextEncoder().encode(line + "\n"));

if (values.role === "broadcaster") {
  const open: WebSocket[] = [];
  const text = JSON.stringify(Array.from({ length: 10 }, (_, seq) => ({
    type: "message",
    message: {
      id: crypto.randomUUID(),
      conversationId: crypto.randomUUID(),
      seq,
      senderId: crypto.randomUUID(),
      kind: "text",
      body: `t:${Date.now()}|p:1|`,
      ts: Date.now(),
    },
  })));
  Deno.serve({ port: Number(values.port), hostname: "127.0.0.1", onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onopen = () => open.push(socket);
    return response;
  });
  setInterval(() => {
    for (const s of open) s.send(text);
  }, gap);
} else if (values.role === "receiver") {
  let frames = 0;
  for (let i = 0; i < sockets; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${values.port}/`);
    ws.onmessage = () => void frames++;
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
  }
  await new Promise((r) => setTimeout(r, 1000));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const f0 = frames;
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  const perSec = ((frames - f0) / ms) * 1000;
  const pct = (us: number) => (us / 1000 / ms) * 100;
  await out(JSON.stringify({
    sockets,
    gapMs: gap,
    framesPerSec: Math.round(perSec),
    cpuPct: +pct(cpu.user + cpu.system).toFixed(1),
    userPct: +pct(cpu.user).toFixed(1),
    systemPct: +pct(cpu.system).toFixed(1),
    usPerFrame: +((cpu.user + cpu.system) / (frames - f0)).toFixed(2),
  }));
  Deno.exit(0);
} else {
  // Bounded: whatever happens, everything started here is gone after this long.
  const watchdog = setTimeout(() => {
    killAllNow();
    Deno.exit(2);
  }, (seconds + 90) * 1000);
  const port = freePort();
  const self = new URL(import.meta.url).pathname;
  const common = ["run", "-A", self, "--port", String(port), "--gap", String(gap)];
  spawn("broadcaster", Deno.execPath(), [...common, "--role", "broadcaster"], { core: 0 });
  await new Promise((r) => setTimeout(r, 1500));
  const receiver = spawn(
    "receiver",
    Deno.execPath(),
    [...common, "--role", "receiver", "--sockets", String(sockets), "--seconds", String(seconds)],
    { core: 1, readStdout: true },
  );
  let result = "";
  for await (const chunk of receiver.child.stdout.pipeThrough(new TextDecoderStream())) {
    result += chunk;
  }
  await receiver.exited;
  await stopAll();
  clearTimeout(watchdog);
  await out(result.trim());
}
