/**
 * A misbehaving engine cannot crash the bot or exhaust its memory. Each scenario runs the real runner in its own
 * child process (test/support/flood-child.ts), so a crash or a memory blow-up shows in that process alone, and its
 * peak resident memory is measured there.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/bot-process.js';

/** Generous: the runner alone peaks near 150 MB; keeping 200 000 chatty events took over 500 MB. */
const PEAK_RSS_LIMIT_MB = 300;

interface Outcome {
  ok: boolean;
  error?: string;
  userError?: boolean;
  detail?: { warnings?: Array<{ summary: string }>; applied?: string[] };
}
interface ChildReport {
  plan: Outcome;
  apply?: Outcome;
  resourceStatus: string;
  peakRssMb: number;
}

async function floodedRun(flood: Record<string, number>): Promise<ChildReport> {
  const child = await execa('node', ['--import', 'tsx', 'test/support/flood-child.ts', JSON.stringify(flood)], {
    cwd: REPO_ROOT,
    reject: false,
    timeout: 60_000,
  });
  expect(child.exitCode, `the child crashed:\n${child.stderr.slice(-3000)}`).toBe(0);
  const report = JSON.parse(child.stdout.trim().split('\n').at(-1) ?? '') as ChildReport;
  expect(report.peakRssMb).toBeLessThan(PEAK_RSS_LIMIT_MB);
  return report;
}

describe('an engine that floods its output', () => {
  it('survives a 512 MB line, 200 000 chatty progress lines and an oversized plan document, with bounded memory', async () => {
    const [huge, chatty, oversizedPlan] = await Promise.all([
      floodedRun({ hugeLineBytes: 512 * 1024 * 1024 }),
      floodedRun({ progressLines: 200_000, progressMessageBytes: 2048 }),
      floodedRun({ showBytes: 40 * 1024 * 1024 }),
    ]);

    expect(huge.plan).toMatchObject({ ok: true });
    expect(huge.plan.detail?.warnings?.map((w) => w.summary)).toContain('The engine printed 1 line longer than 4 MB; skipped');
    expect(huge.apply).toMatchObject({ ok: true });
    expect(huge.resourceStatus).toBe('active');

    // 200 000 progress lines of 2 KB each: passed on as they come, not kept.
    expect(chatty.apply).toMatchObject({ ok: true, detail: { applied: [expect.stringMatching(/^google_storage_bucket\./)] } });
    expect(chatty.resourceStatus).toBe('active');

    // A `show -json` document past the cap fails the plan readably, instead of being read whole.
    expect(oversizedPlan.plan).toMatchObject({ ok: false, userError: true });
    expect(oversizedPlan.plan.error).toContain('the engine printed more than 32 MB for `show`');
    expect(oversizedPlan.apply).toBeUndefined();
    expect(oversizedPlan.resourceStatus).toBe('planned');
  }, 90_000);
});
