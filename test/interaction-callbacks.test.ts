/**
 * The lean first answer to an interaction (src/discord/interaction-callbacks.ts) against a real HTTP server that
 * answers as scripted: what is sent, what is recorded on the interaction for discord.js, and what happens on a 429,
 * a 5xx, a dropped kept-alive connection, and an interaction Discord no longer knows.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DiscordAPIError } from 'discord.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InteractionCallbacks } from '../src/discord/interaction-callbacks.js';

interface Received {
  url: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}
type Script = (response: ServerResponse, request: Received) => void;

let server: Server;
let received: Received[];
let script: Script[];
let callbacks: InteractionCallbacks;

const noContent: Script = (response) => response.writeHead(204).end();
const json = (status: number, body: unknown): Script => (response) =>
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

beforeEach(async () => {
  received = [];
  script = [];
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { url: request.url ?? '', headers: request.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown };
      received.push(entry);
      (script.shift() ?? noContent)(response, entry);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  callbacks = new InteractionCallbacks(`http://127.0.0.1:${port}/api`, '10', 'DiscordBot (test, 1)');
});

afterEach(async () => {
  callbacks.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const repliable = (id = '900000000000000001', token = 'secret-token-a') => ({ id, token, replied: false, deferred: false, ephemeral: null as boolean | null });

describe('InteractionCallbacks', () => {
  it('answers with the message as a type 4 callback and records it as discord.js would', async () => {
    const interaction = repliable();
    await callbacks.reply(interaction, { content: 'hello', embeds: [{ title: 't' }], allowed_mentions: { parse: [] }, flags: 64 });
    expect(received).toHaveLength(1);
    expect(received[0]?.url).toBe('/api/v10/interactions/900000000000000001/secret-token-a/callback');
    expect(received[0]?.headers['user-agent']).toBe('DiscordBot (test, 1)');
    expect(received[0]?.body).toEqual({ type: 4, data: { content: 'hello', embeds: [{ title: 't' }], allowed_mentions: { parse: [] }, flags: 64 } });
    expect(interaction).toMatchObject({ replied: true, deferred: false, ephemeral: true });
  });

  it('defers (type 5, ephemeral or not) and answers autocomplete (type 8), recording each', async () => {
    const publicOne = repliable('900000000000000002');
    await callbacks.defer(publicOne, false);
    const privateOne = repliable('900000000000000003');
    await callbacks.defer(privateOne, true);
    const autocomplete = { id: '900000000000000004', token: 't', responded: false };
    await callbacks.respond(autocomplete, [{ name: 'web', value: 'web' }]);
    expect(received.map((request) => request.body)).toEqual([
      { type: 5, data: { flags: 0 } },
      { type: 5, data: { flags: 64 } },
      { type: 8, data: { choices: [{ name: 'web', value: 'web' }] } },
    ]);
    expect(publicOne).toMatchObject({ deferred: true, replied: false, ephemeral: false });
    expect(privateOne).toMatchObject({ deferred: true, ephemeral: true });
    expect(autocomplete.responded).toBe(true);
  });

  it('waits out a 429 and sends again; gives up with the 429 after three tries', async () => {
    script.push(json(429, { message: 'You are being rate limited.', retry_after: 0, global: false }));
    const interaction = repliable();
    await callbacks.reply(interaction, { content: 'x' });
    expect(received).toHaveLength(2);
    expect(interaction.replied).toBe(true);

    received = [];
    const limited = json(429, { message: 'You are being rate limited.', retry_after: 0, global: false });
    script.push(limited, limited, limited);
    const refused = repliable('900000000000000005');
    const error = await callbacks.reply(refused, { content: 'x' }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect((error as DiscordAPIError).status).toBe(429);
    expect(received).toHaveLength(3);
    expect(refused.replied).toBe(false);
  });

  it('sends again after a 5xx', async () => {
    script.push(json(502, { message: 'Bad gateway', code: 0 }));
    await callbacks.reply(repliable(), { content: 'x' });
    expect(received).toHaveLength(2);
  });

  it('takes "already acknowledged" on a resend as the first attempt having got through', async () => {
    script.push(json(503, { message: 'Service unavailable', code: 0 }), json(400, { message: 'Interaction has already been acknowledged.', code: 40060 }));
    const interaction = repliable();
    await callbacks.reply(interaction, { content: 'x' });
    expect(interaction.replied).toBe(true);
  });

  it('refuses with Discord’s error, its code kept and the token left out, when the interaction is unknown', async () => {
    script.push(json(404, { message: 'Unknown interaction', code: 10062 }));
    const interaction = repliable('900000000000000006', 'secret-token-b');
    const error = await callbacks.reply(interaction, { content: 'x' }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(DiscordAPIError);
    expect((error as DiscordAPIError).code).toBe(10062);
    expect((error as DiscordAPIError).status).toBe(404);
    expect((error as DiscordAPIError).url).not.toContain('secret-token-b');
    expect(JSON.stringify(error)).not.toContain('secret-token-b');
    expect(interaction.replied).toBe(false);
    expect(received).toHaveLength(1);
  });

  it('sends again when the server drops the connection it had kept alive', async () => {
    await callbacks.reply(repliable(), { content: 'first' });
    script.push((response) => response.socket?.destroy());
    const interaction = repliable('900000000000000007');
    await callbacks.reply(interaction, { content: 'second' });
    expect(interaction.replied).toBe(true);
    expect(received.map((request) => (request.body as { data: { content: string } }).data.content)).toEqual(['first', 'second', 'second']);
  });

  it('gives up after three dropped connections, with an error that does not carry the token, and records nothing', async () => {
    const drop: Script = (response) => response.socket?.destroy();
    script.push(drop, drop, drop);
    const interaction = repliable('900000000000000008', 'secret-token-dropped');
    const error = await callbacks.reply(interaction, { content: 'x' }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(`${String(error)} ${JSON.stringify(error)}`).not.toContain('secret-token-dropped');
    expect(interaction.replied).toBe(false);
    expect(received).toHaveLength(3);
  });

  it('answers many interactions at once, each with its own token and body', async () => {
    const interactions = Array.from({ length: 60 }, (_, i) => repliable(String(910000000000000000n + BigInt(i)), `token-${i}`));
    await Promise.all(interactions.map((interaction, i) => callbacks.reply(interaction, { content: `answer ${i}` })));
    expect(interactions.every((interaction) => interaction.replied)).toBe(true);
    const byToken = new Map(received.map((request) => [request.url.split('/')[5], (request.body as { data: { content: string } }).data.content]));
    expect(byToken.size).toBe(60);
    for (let i = 0; i < 60; i++) expect(byToken.get(`token-${i}`)).toBe(`answer ${i}`);
  });

  it('does not send a 4xx again', async () => {
    script.push(json(400, { message: 'Invalid Form Body', code: 50035 }));
    const error = await callbacks.reply(repliable(), { content: 'x' }).then(() => undefined, (caught: unknown) => caught);
    expect((error as DiscordAPIError).code).toBe(50035);
    expect(received).toHaveLength(1);
  });
});
