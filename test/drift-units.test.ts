/**
 * The pieces of drift checks that need no engine: reading `resource_drift` from a plan's JSON with sensitive values
 * masked (src/drift/drift-report.ts), the schedules (src/drift/drift-schedule.ts), and the engine's argv.
 */
import { describe, expect, it } from 'vitest';
import { planArgs, refreshStateArgs } from '../src/engine/commands/index.js';
import { readDriftReport } from '../src/drift/drift-report.js';
import { driftScheduleSchema, nextRunAfter } from '../src/drift/drift-schedule.js';
import { PlanJsonInvalid } from '../src/engine/plan-summary.js';

const SECRET = 's3cr3t-value';

function drift(address: string, change: Record<string, unknown>, mode = 'managed') {
  return { address, mode, type: address.split('.')[0], name: address.split('.')[1], change };
}

describe('readDriftReport', () => {
  it('names each changed attribute with both values, and a sensitive one without any', () => {
    const report = readDriftReport({
      resource_drift: [
        drift('google_compute_instance.vm_1', {
          actions: ['update'],
          before: { machine_type: 'e2-micro', labels: { env: 'dev', team: 'web' }, metadata: { ssh_key: 'old', startup: 'a' }, password: 'old-pass', name: 'vm' },
          after: { machine_type: 'e2-standard-4', labels: { env: 'prod', team: 'web' }, metadata: { ssh_key: SECRET, startup: 'b' }, password: SECRET, name: 'vm' },
          before_sensitive: { password: true, metadata: { ssh_key: true } },
          after_sensitive: { password: true, metadata: { ssh_key: true } },
        }),
      ],
    });
    expect(report.resources).toEqual([
      {
        address: 'google_compute_instance.vm_1',
        action: 'update',
        moreAttributes: 0,
        attributes: [
          { path: 'labels.env', sensitive: false, before: '"dev"', after: '"prod"' },
          { path: 'machine_type', sensitive: false, before: '"e2-micro"', after: '"e2-standard-4"' },
          { path: 'metadata.ssh_key', sensitive: true },
          { path: 'metadata.startup', sensitive: false, before: '"a"', after: '"b"' },
          { path: 'password', sensitive: true },
        ],
      },
    ]);
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('a value marked sensitive only after the change, or as a whole block, is never shown', () => {
    const report = readDriftReport({
      resource_drift: [
        drift('aws_db_instance.db', { actions: ['update'], before: { auth: { user: 'a', token: 'x' } }, after: { auth: { user: 'b', token: SECRET } }, before_sensitive: {}, after_sensitive: { auth: true } }),
        drift('aws_iam_access_key.k', { actions: ['update'], before: { secret: null }, after: { secret: SECRET }, before_sensitive: false, after_sensitive: { secret: true } }),
        drift('aws_ssm_parameter.p', { actions: ['update'], before: { value: ['a'] }, after: { value: [SECRET, 'b'] }, after_sensitive: { value: [true] } }),
      ],
    });
    expect(report.resources.map((r) => r.attributes)).toEqual([[{ path: 'auth', sensitive: true }], [{ path: 'secret', sensitive: true }], [{ path: 'value.0', sensitive: true }, { path: 'value.1', sensitive: false, before: '(none)', after: '"b"' }]]);
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it('a resource deleted outside the engine is a deletion; no-ops and data sources are left out', () => {
    const report = readDriftReport({
      resource_drift: [
        drift('google_storage_bucket.b', { actions: ['delete'], before: { name: 'b' }, after: null }),
        drift('google_storage_bucket.same', { actions: ['no-op'], before: { name: 'x' }, after: { name: 'x' } }),
        drift('data.google_project.p', { actions: ['update'], before: {}, after: { id: 'p' } }, 'data'),
      ],
    });
    expect(report).toEqual({ resources: [{ address: 'google_storage_bucket.b', action: 'delete', attributes: [], moreAttributes: 0 }], moreResources: 0 });
  });

  it('a plan without drift is an empty report; a document that is not a plan is refused', () => {
    expect(readDriftReport({ format_version: '1.2', resource_changes: [] })).toEqual({ resources: [], moreResources: 0 });
    expect(() => readDriftReport({ resource_drift: 'nope' })).toThrow(PlanJsonInvalid);
    expect(() => readDriftReport([1, 2])).toThrow(PlanJsonInvalid);
  });

  it('keeps a summary: at most 20 resources and 12 attributes each, the rest counted; long values cut', () => {
    const many = Array.from({ length: 25 }, (_, i) => drift(`aws_s3_bucket.b${i}`, { actions: ['update'], before: Object.fromEntries(Array.from({ length: 15 }, (_, k) => [`a${k}`, 0])), after: Object.fromEntries(Array.from({ length: 15 }, (_, k) => [`a${k}`, 'x'.repeat(200)])) }));
    const report = readDriftReport({ resource_drift: many });
    expect(report.resources).toHaveLength(20);
    expect(report.moreResources).toBe(5);
    expect(report.resources[0]!.attributes).toHaveLength(12);
    expect(report.resources[0]!.moreAttributes).toBe(3);
    const first = report.resources[0]!.attributes[0]!;
    expect(first.sensitive === false && first.after.length).toBe(80);
  });
});

describe('drift schedules', () => {
  const at = (iso: string) => Date.parse(iso);

  it('takes the words and cron expressions, and refuses what node-cron refuses or what never matches', () => {
    expect(driftScheduleSchema.parse(' Daily ')).toBe('0 6 * * *');
    expect(driftScheduleSchema.parse('hourly')).toBe('0 * * * *');
    expect(driftScheduleSchema.parse('*/15   *  * * *')).toBe('*/15 * * * *');
    expect(driftScheduleSchema.safeParse('61 * * * *').success).toBe(false);
    expect(driftScheduleSchema.safeParse('every tuesday').success).toBe(false);
    expect(driftScheduleSchema.safeParse('0 0 31 2 *').success).toBe(false);
    expect(driftScheduleSchema.safeParse('x'.repeat(101)).success).toBe(false);
  });

  it('finds the next minute each expression matches, in UTC', () => {
    expect(nextRunAfter('0 6 * * *', at('2026-01-01T12:00:00Z'))).toBe(at('2026-01-02T06:00:00Z'));
    expect(nextRunAfter('0 6 * * *', at('2026-01-02T05:59:30Z'))).toBe(at('2026-01-02T06:00:00Z'));
    expect(nextRunAfter('*/15 * * * *', at('2026-01-01T12:07:00Z'))).toBe(at('2026-01-01T12:15:00Z'));
    expect(nextRunAfter('*/15 * * * *', at('2026-01-01T12:15:00Z'))).toBe(at('2026-01-01T12:30:00Z'));
    // 1 January 2026 is a Thursday; the next Monday is the 5th.
    expect(nextRunAfter('0 6 * * 1', at('2026-01-01T12:00:00Z'))).toBe(at('2026-01-05T06:00:00Z'));
    expect(nextRunAfter('30 2 29 2 *', at('2026-01-01T00:00:00Z'))).toBe(at('2028-02-29T02:30:00Z'));
    expect(nextRunAfter('0 0 31 2 *', at('2026-01-01T00:00:00Z'))).toBeUndefined();
  });
});

describe('drift argv', () => {
  it('checks with -refresh-only -detailed-exitcode and accepts with apply -refresh-only -auto-approve', () => {
    expect(planArgs({ out: '.plans/run-3.tfplan', refreshOnly: true, detailedExitcode: true })).toEqual(['plan', '-input=false', '-no-color', '-json', '-refresh-only', '-detailed-exitcode', '-out=.plans/run-3.tfplan']);
    expect(refreshStateArgs()).toEqual(['apply', '-input=false', '-no-color', '-json', '-refresh-only', '-auto-approve']);
  });
});
