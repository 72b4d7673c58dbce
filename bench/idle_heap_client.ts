/** Opens one WebSocket per token and holds them until killed (at most 2 minutes). */
const [file] = Deno.args;
const { url, tokens } = JSON.parse(await Deno.readTextFile(file));
const held: WebSocket[] = [];
for (const token of tokens as string[]) {
  const ws = new WebSocket(`${url}?token=${encodeURIComponent(token)}`);
  held.push(ws);
  await new Promise((r) => {
    ws.onmessage = r;
    ws.onerror = r;
  });
}
setTimeout(() => Deno.exit(0), 120_000);
