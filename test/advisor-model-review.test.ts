/**
 * The advisor's model review (src/advisor/model-review.ts) against a stand-in OpenAI-compatible server on 127.0.0.1:
 * what is sent, what is shown, and that every failure (timeout, HTTP 500, malformed answer) leaves the review out
 * with one log line and nothing else.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { advisorUrlSchema } from '../src/advisor/advisor-url.js';
import { MAX_REVIEW_CHARS, ModelReviewer, type ReviewSummary } from '../src/advisor/model-review.js';
import { ConfigError, parseConfig } from '../src/config/index.js';
import { createLogger } from '../src/logging/logger.js';
import { completion, startModelStandIn } from './support/model-stand-in.js';

const API_KEY = 'sk-advisor-test-key-0123456789';
const summary: ReviewSummary = { resourceType: 'vm', instanceType: 'n2-standard-2', diskSizeGb: 500, region: 'europe-west1', monthlyEstimateUsd: 120.9 };

describe('the advisor model review, against a local stand-in', () => {
  let standIn: Awaited<ReturnType<typeof startModelStandIn>>;
  let logs = '';
  const logger = createLogger('info', new Writable({ write: (chunk: Buffer, _e, done) => ((logs += chunk.toString()), done()) }));
  const reviewer = (timeoutMs = 5_000) => new ModelReviewer({ url: standIn.url, model: 'small-model', apiKey: API_KEY, timeoutMs }, logger);

  beforeAll(async () => {
    standIn = await startModelStandIn();
  });
  afterAll(() => standIn?.stop());
  beforeEach(() => {
    logs = '';
    standIn.requests.length = 0;
    standIn.answerWith(completion('No concerns.'));
  });

  it('posts the summary to {ADVISOR_URL}/chat/completions with the key in the header, and returns the answer', async () => {
    standIn.answerWith(completion('  A 500 GB disk\n\non a 2-vCPU machine is large.  '));
    await expect(reviewer().review(summary)).resolves.toBe('A 500 GB disk on a 2-vCPU machine is large.');
    const [request] = standIn.requests;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/chat/completions' });
    expect(request?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    const body = JSON.parse(request?.body ?? '{}') as { model: string; messages: Array<{ role: string; content: string }> };
    expect(body.model).toBe('small-model');
    expect(JSON.parse(body.messages.find((m) => m.role === 'user')?.content ?? '{}')).toEqual(summary);
    expect(request?.body).not.toContain(API_KEY);
    expect(logs).toBe('');
  });

  it('cuts a long answer to a short review', async () => {
    standIn.answerWith(completion('word '.repeat(400)));
    const review = await reviewer().review(summary);
    expect(review?.length).toBe(MAX_REVIEW_CHARS);
    expect(review?.endsWith('…')).toBe(true);
  });

  it('leaves the review out with a log line when the endpoint does not answer in time', async () => {
    standIn.answerWith('hang');
    await expect(reviewer(300).review(summary)).resolves.toBeUndefined();
    expect(logs).toMatch(/advisor: model review left out/);
    expect(logs).toMatch(/no answer within 300 ms/);
  });

  it('leaves the review out with a log line on an HTTP 500', async () => {
    standIn.answerWith({ status: 500, body: '{"error":{"message":"overloaded"}}' });
    await expect(reviewer().review(summary)).resolves.toBeUndefined();
    expect(logs).toMatch(/HTTP 500/);
    expect(logs).not.toContain(API_KEY);
  });

  it('leaves the review out with a log line on an answer that is not JSON, or not a completion', async () => {
    standIn.answerWith({ status: 200, body: '{"choices": [ {"message": ' });
    await expect(reviewer().review(summary)).resolves.toBeUndefined();
    expect(logs).toMatch(/the answer is not JSON/);
    logs = '';
    standIn.answerWith({ status: 200, body: JSON.stringify({ choices: [{ message: { content: 42 } }] }) });
    await expect(reviewer().review(summary)).resolves.toBeUndefined();
    expect(logs).toMatch(/no choices\[0\]\.message\.content/);
    logs = '';
    standIn.answerWith({ status: 200, body: JSON.stringify({ choices: [] }) });
    await expect(reviewer().review(summary)).resolves.toBeUndefined();
    expect(logs).toMatch(/advisor: model review left out/);
  });

  it('leaves the review out, unread, when the answer is far larger than a short review', async () => {
    standIn.answerWith(completion('x'.repeat(200_000)));
    await expect(reviewer().review(summary)).resolves.toBeUndefined();
    expect(logs).toMatch(/larger than 65536 bytes/);
  });

  it('leaves the review out when nothing listens at the URL', async () => {
    const gone = await startModelStandIn();
    const url = gone.url;
    await gone.stop();
    await expect(new ModelReviewer({ url, model: 'm', timeoutMs: 5_000 }, logger).review(summary)).resolves.toBeUndefined();
    expect(logs).toMatch(/could not be reached/);
  });
});

describe('ADVISOR_* settings', () => {
  const problemsOf = (env: Record<string, string>) => {
    try {
      parseConfig(env);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
  };

  it('is off by default, and takes a URL with a path, normalised without its trailing slash', () => {
    expect(parseConfig({}).ADVISOR_ENABLED).toBe(false);
    const config = parseConfig({ ADVISOR_ENABLED: 'true', ADVISOR_URL: 'https://api.openai.com/v1/', ADVISOR_MODEL: 'gpt-4o-mini' });
    expect(config.ADVISOR_URL).toBe('https://api.openai.com/v1');
    expect(config.ADVISOR_TIMEOUT_SECONDS).toBe(10);
    expect(parseConfig({ ADVISOR_ENABLED: 'true', ADVISOR_URL: 'http://localhost:11434/v1', ADVISOR_MODEL: 'llama3' }).ADVISOR_URL).toBe('http://localhost:11434/v1');
    // The lines .env.example ships with parse, and leave it off.
    expect(parseConfig({ ADVISOR_ENABLED: 'false', ADVISOR_URL: '', ADVISOR_MODEL: '', ADVISOR_API_KEY: '', ADVISOR_TIMEOUT_SECONDS: '10' }).ADVISOR_ENABLED).toBe(false);
  });

  it('refuses a URL that would be ignored or is half configured', () => {
    expect(problemsOf({ ADVISOR_URL: 'https://api.example.com/v1', ADVISOR_MODEL: 'm' })).toEqual([expect.stringMatching(/^ADVISOR_ENABLED: expected true when ADVISOR_URL is set/)]);
    expect(problemsOf({ ADVISOR_ENABLED: 'true', ADVISOR_URL: 'https://api.example.com/v1' })).toEqual([expect.stringMatching(/^ADVISOR_MODEL: expected a model name/)]);
    expect(problemsOf({ ADVISOR_ENABLED: 'yes' })).toEqual([expect.stringMatching(/^ADVISOR_ENABLED: expected true or false/)]);
  });

  it('holds the endpoint rules: no metadata or link-local host, no credentials or query, http only on loopback', () => {
    const refused = (url: string) => !advisorUrlSchema.safeParse(url).success;
    expect(refused('http://169.254.169.254/v1')).toBe(true);
    expect(refused('https://metadata.google.internal/v1')).toBe(true);
    expect(refused('https://[fe80::1]/v1')).toBe(true);
    expect(refused('https://user:pass@api.example.com/v1')).toBe(true);
    expect(refused('https://api.example.com/v1?key=abc')).toBe(true);
    expect(refused('http://api.example.com/v1')).toBe(true);
    expect(refused('ftp://api.example.com/v1')).toBe(true);
    expect(refused('http://127.0.0.1:8080/v1')).toBe(false);
    expect(refused('http://[::1]:8080')).toBe(false);
    expect(refused('https://10.0.0.5/v1')).toBe(false);
  });
});
