/**
 * `node --import tsx bench/callback-clients.ts [rate] [seconds] [rounds]`: what the first answer to an interaction
 * costs this process in CPU, sent by src/discord/interaction-callbacks.ts (undici's pool, `dispatch`) against the
 * same request through node's own `http.request` on a kept-alive agent (how that class sent it until 2026-12-04).
 * The server is a child process, so only the client's work is counted; requests go out open-loop, `rate` a second
 * (1000 by default) in ticks of 10 ms, for `seconds` (5) per round, the two clients taking turns for `rounds` (3)
 * rounds, so a change in the machine's load falls on both. Prints µs of CPU per request (user and kernel).
 */
import { fork } from 'node:child_process';
import http from 'node:http';
import { InteractionCallbacks } from '../src/discord/interaction-callbacks.js';

const rate = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 5);
const rounds = Number(process.argv[4] ?? 3);
const TICK_MS = 10;
const data = { content: '⛔ The policy does not allow vm here. Allowed: bucket. Ask an admin to change /cloud-guild-policy.', flags: 64, allowed_mentions: { parse: [] } };

if (process.argv[2] === 'serve') {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as { port: number }).port));
} else {
  const child = fork(new URL(import.meta.url).pathname, ['serve'], { execArgv: process.execArgv });
  const port = await new Promise<number>((resolve) => child.once('message', (message) => resolve(Number(message))));
  const api = `http://127.0.0.1:${port}/api`;

  const ours = new InteractionCallbacks(api, '10', 'DiscordBot (bench, 1)');
  const viaUndici = (i: number) => ours.reply({ id: String(i), token: `token-${i}`, replied: false, deferred: false, ephemeral: null }, data);

  // The former client, as it was: node's http.request through a kept-alive agent, the body collected by hand.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const viaNodeHttp = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const json = JSON.stringify({ type: 4, data });
      const request = http.request(
        {
          protocol: 'http:',
          hostname: '127.0.0.1',
          port,
          path: `/api/v10/interactions/${i}/token-${i}/callback`,
          method: 'POST',
          agent,
          timeout: 15_000,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), 'user-agent': 'DiscordBot (bench, 1)' },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => (response.statusCode === 204 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`))));
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(json);
    });

  /** CPU (µs) per request over one open-loop round. */
  const round = async (send: (i: number) => Promise<void>): Promise<{ user: number; system: number }> => {
    const total = rate * seconds;
    const perTick = (rate * TICK_MS) / 1000;
    const started = process.cpuUsage();
    let sent = 0;
    const pending: Array<Promise<void>> = [];
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        for (let k = 0; k < perTick && sent < total; k++) pending.push(send(sent++));
        if (sent >= total) {
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    await Promise.all(pending);
    const used = process.cpuUsage(started);
    return { user: used.user / total, system: used.system / total };
  };

  const clients = [
    { name: 'node http.request (before)', send: viaNodeHttp },
    { name: 'undici dispatch (InteractionCallbacks)', send: viaUndici },
  ];
  for (const client of clients) for (let i = 0; i < 2000; i++) await client.send(i); // warm-up: JIT and connections
  const results = new Map<string, number[]>(clients.map((client) => [client.name, []]));
  for (let r = 1; r <= rounds; r++) {
    for (const client of clients) {
      const { user, system } = await round(client.send);
      results.get(client.name)?.push(user + system);
      console.log(`round ${r} ${client.name.padEnd(40)} ${(user + system).toFixed(1)} µs CPU per request (kernel ${system.toFixed(1)})`);
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
  for (const [name, values] of results) console.log(`median ${name.padEnd(40)} ${median(values).toFixed(1)} µs CPU per request, ${rate}/s`);
  ours.close();
  agent.destroy();
  child.kill();
}
