import { describe, expect, it } from 'vitest';
import { BoundedCollector, BoundedLineSplitter } from '../src/engine/output-limits.js';
import { RunEventDigest, MAX_COMPLETED_ADDRESSES, MAX_ERROR_DIAGNOSTICS } from '../src/engine/run-events.js';
import { describeFailure } from '../src/engine/failure.js';
import { Redactor } from '../src/shared/redaction.js';

function split(chunks: Array<string | Buffer>, maxLineBytes: number): { lines: string[]; overlong: number } {
  const lines: string[] = [];
  const splitter = new BoundedLineSplitter((line) => lines.push(line), maxLineBytes);
  for (const chunk of chunks) splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  splitter.end();
  return { lines, overlong: splitter.overlong };
}

describe('reading engine output within limits', () => {
  it('splits lines across chunk boundaries, LF and CRLF, and keeps a last line without a newline', () => {
    expect(split(['{"a":', '1}\r\n{"b"', ':2}\n\nlast'], 100)).toEqual({ lines: ['{"a":1}', '{"b":2}', '', 'last'], overlong: 0 });
  });

  it('decodes a multi-byte character split between two chunks', () => {
    const bytes = Buffer.from('é€\n');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1, 3), bytes.subarray(3)], 100).lines).toEqual(['é€']);
  });

  it('skips and counts a line over the limit, whether it arrives in one chunk or many, and goes on after it', () => {
    expect(split(['short\n', 'x'.repeat(11), '\nafter\n'], 10)).toEqual({ lines: ['short', 'after'], overlong: 1 });
    expect(split(['ok\nxxxx', 'xxxx', 'xxxx', 'xx\nnext'], 10)).toEqual({ lines: ['ok', 'next'], overlong: 1 });
    expect(split(['x'.repeat(20)], 10)).toEqual({ lines: [], overlong: 1 });
    // Exactly at the limit is kept.
    expect(split(['x'.repeat(5), 'x'.repeat(5), '\n'], 10).lines).toEqual(['x'.repeat(10)]);
  });

  it('collects output up to its cap and says when it overflowed, keeping nothing then', () => {
    const collector = new BoundedCollector(8);
    collector.push(Buffer.from('{"a":'));
    collector.push(Buffer.from('1}'));
    expect(collector.text()).toBe('{"a":1}');
    collector.push(Buffer.from('xxxx'));
    expect(collector.overflowed).toBe(true);
    expect(collector.text()).toBe('');
  });
});

describe('what a run keeps of its events', () => {
  it('keeps the last summary per operation, the last outputs, and caps completed addresses and errors', () => {
    const digest = new RunEventDigest();
    digest.add({ type: 'change_summary', operation: 'plan', add: 9, change: 0, remove: 0 });
    digest.add({ type: 'change_summary', operation: 'apply', add: 1, change: 2, remove: 3 });
    for (let i = 0; i < MAX_COMPLETED_ADDRESSES + 50; i++) digest.add({ type: 'apply_complete', address: `aws_s3_bucket.b_${i}` });
    for (let i = 0; i < 1000; i++) digest.add({ type: 'diagnostic', severity: 'error', summary: `error ${i}`, detail: '' });
    digest.add({ type: 'diagnostic', severity: 'warning', summary: 'just a warning', detail: '' });
    digest.add({ type: 'outputs', outputs: { old: { sensitive: false, value: 1 } } });
    digest.add({ type: 'outputs', outputs: { ip: { sensitive: false, value: '198.51.100.1' } } });

    expect(digest.changeSummary('apply')).toEqual({ add: 1, change: 2, remove: 3 });
    expect(digest.changeSummary('destroy')).toEqual({ add: 1, change: 2, remove: 3 });
    expect(digest.completed()).toHaveLength(MAX_COMPLETED_ADDRESSES);
    expect(digest.completed()[0]).toBe('aws_s3_bucket.b_0');
    expect(digest.completedCount).toBe(MAX_COMPLETED_ADDRESSES + 50);
    expect(digest.errors()).toHaveLength(MAX_ERROR_DIAGNOSTICS);
    expect(digest.errorCount).toBe(1000);
    expect(digest.outputs()).toEqual({ ip: { sensitive: false, value: '198.51.100.1' } });
    // The member still hears how many errors there were in all.
    expect(describeFailure(digest.errors(), '', 'failed', new Redactor([]), digest.errorCount).detail).toContain('(and 999 more errors: error 1; error 2; error 3)');
  });
});
