/**
 * The log's net for secrets: every path in REDACTED_PATHS is blanked wherever a line or a child logger's bindings
 * carry it (top level, one level down, inside an error), nothing else is, and the object logged is left as it was.
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logging/logger.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger('info', sink), lines };
}

describe('log redaction', () => {
  it('blanks secret-named fields at the top, one level down and in headers, and keeps the rest', () => {
    const { logger, lines } = capture();
    const logged = {
      token: 'tok-123456',
      guildId: '111111111111111111',
      request: { secretAccessKey: 'AKIA-SECRET', region: 'eu-west-1', headers: { authorization: 'Bearer abc', accept: 'json' } },
      headers: { authorization: 'Bearer top', host: 'x' },
      fields: { anything: 1 },
      deep: { inner: { token: 'two levels down is not a path' } },
      list: [{ token: 'an array is not looked into' }],
    };
    const before = structuredClone(logged);
    logger.info(logged, 'a line');
    logger.flush();
    const [line] = lines;
    expect(line).toMatchObject({
      msg: 'a line',
      token: '[redacted]',
      guildId: '111111111111111111',
      request: { secretAccessKey: '[redacted]', region: 'eu-west-1', headers: { authorization: '[redacted]', accept: 'json' } },
      headers: { authorization: '[redacted]', host: 'x' },
      fields: '[redacted]',
      // As pino's redact did: the paths are one level deep, `*` one key.
      deep: { inner: { token: 'two levels down is not a path' } },
      list: [{ token: 'an array is not looked into' }],
    });
    expect(logged).toEqual(before);
  });

  it('blanks a secret an error carries and still prints the error', () => {
    const { logger, lines } = capture();
    const error = Object.assign(new Error('upload failed'), { credentials: 'aws-key-material', status: 403 });
    logger.error({ err: error }, 'failed');
    logger.flush();
    expect(lines[0]?.err).toMatchObject({ type: 'Error', message: 'upload failed', credentials: '[redacted]', status: 403 });
    expect(JSON.stringify(lines[0])).not.toContain('aws-key-material');
    expect(error.credentials).toBe('aws-key-material');
  });

  it('blanks a child logger’s bindings too', () => {
    const { logger, lines } = capture();
    logger.child({ password: 'hunter2hunter2', run: 7 }).info('child line');
    logger.flush();
    expect(lines[0]).toMatchObject({ password: '[redacted]', run: 7, msg: 'child line' });
  });
});
