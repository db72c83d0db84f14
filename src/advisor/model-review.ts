/**
 * A model's short review of a deployment, from an OpenAI-compatible endpoint (`POST {ADVISOR_URL}/chat/completions`).
 * What leaves the host is only `ReviewSummary`: resource type, instance type, disk size, region and the estimate;
 * never a project id, a name, a guild, a credential or any state. The answer is validated with zod; a timeout, an
 * HTTP error, an unreachable host or a malformed answer is logged in one line and the review is simply left out:
 * the advisor never blocks a deployment.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import { guardedLookup } from '../shared/endpoint.js';

/** Exactly what is sent about a deployment. */
export interface ReviewSummary {
  resourceType: string;
  instanceType: string | null;
  diskSizeGb: number | null;
  region: string;
  monthlyEstimateUsd: number;
}

export interface ModelReviewSettings {
  /** Base URL, already validated by advisorUrlSchema (no trailing slash). */
  url: string;
  model: string;
  apiKey?: string | undefined;
  timeoutMs: number;
}

/** An answer larger than this is not a short review: it is dropped unread. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** What is shown of the review, at most. */
export const MAX_REVIEW_CHARS = 500;

const SYSTEM_PROMPT =
  'You review one planned cloud deployment for cost and sizing. Answer in at most three short sentences of plain text, ' +
  'no markdown. Mention only concrete risks or savings; if there is nothing worth saying, answer "No concerns."';

const answerSchema = z.object({
  choices: z.array(z.object({ message: z.object({ content: z.string().trim().min(1) }) })).min(1),
});

/** Why a review was left out; logged, never shown. */
class ReviewFailed extends Error {}

export class ModelReviewer {
  constructor(
    private readonly settings: ModelReviewSettings,
    private readonly logger: Logger,
  ) {}

  /** The model's review, one paragraph of plain text; undefined (after a log line) whenever it cannot be had. */
  async review(summary: ReviewSummary): Promise<string | undefined> {
    const body = JSON.stringify({
      model: this.settings.model,
      temperature: 0,
      max_tokens: 200,
      messages: [
        { role: 'system', content: SYSTEM_PROMPT },
        { role: 'user', content: JSON.stringify(summary) },
      ],
    });
    try {
      const raw = await this.#post(body);
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        throw new ReviewFailed('the answer is not JSON');
      }
      const parsed = answerSchema.safeParse(json);
      if (!parsed.success) throw new ReviewFailed('the answer has no choices[0].message.content');
      const content = parsed.data.choices[0]?.message.content ?? '';
      const oneParagraph = content.replace(/\s+/g, ' ').trim();
      return oneParagraph.length > MAX_REVIEW_CHARS ? `${oneParagraph.slice(0, MAX_REVIEW_CHARS - 1)}…` : oneParagraph;
    } catch (error) {
      const reason = error instanceof ReviewFailed ? error.message : 'the endpoint could not be reached';
      // The URL is the operator's own setting; the key, the body and the answer are never logged.
      this.logger.warn({ advisorUrl: this.settings.url, reason }, 'advisor: model review left out');
      return undefined;
    }
  }

  #post(body: string): Promise<string> {
    const url = new URL(`${this.settings.url}/chat/completions`);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), accept: 'application/json' };
    if (this.settings.apiKey) headers.authorization = `Bearer ${this.settings.apiKey}`;
    let timer: NodeJS.Timeout | undefined;
    return new Promise<string>((resolve, reject) => {
      const request = send(url, { method: 'POST', headers, lookup: guardedLookup }, (response) => {
        readBody(response).then(resolve, reject);
      });
      // One deadline for connecting, sending and reading the whole answer; its reason wins over the socket's.
      timer = setTimeout(() => {
        reject(new ReviewFailed(`no answer within ${this.settings.timeoutMs} ms`));
        request.destroy();
      }, this.settings.timeoutMs);
      request.on('error', reject);
      request.end(body);
    }).finally(() => clearTimeout(timer));
  }
}

function readBody(response: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const status = response.statusCode ?? 0;
    if (status < 200 || status >= 300) {
      response.resume();
      return reject(new ReviewFailed(`the endpoint answered HTTP ${status}`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_RESPONSE_BYTES) {
        response.destroy(new ReviewFailed(`the answer is larger than ${MAX_RESPONSE_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    response.on('error', reject);
    response.on('aborted', () => reject(new ReviewFailed('the answer was cut off')));
  });
}
