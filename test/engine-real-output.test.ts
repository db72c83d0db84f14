/**
 * The parsers against output recorded from a real Terraform 1.11.4 (test/fixtures/terraform-1.11.4/, made with the
 * built-in `terraform_data` resource, which needs no provider download). The stand-in engine follows the documented
 * formats; these fixtures check that the documentation and the real engine agree with what we parse.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineEventParser, outputCommandSchema, toOutputValues, type EngineEvent } from '../src/engine/json-stream.js';
import { summarisePlan } from '../src/engine/plan-summary.js';
import { REPO_ROOT } from './support/bot-process.js';

const fixture = (name: string) => readFileSync(join(REPO_ROOT, 'test/fixtures/terraform-1.11.4', name), 'utf8');

function parseStream(name: string): { events: EngineEvent[]; parser: EngineEventParser } {
  const parser = new EngineEventParser();
  const events = fixture(name)
    .split('\n')
    .map((line) => parser.parseLine(line))
    .filter((event): event is EngineEvent => event !== undefined);
  return { events, parser };
}

describe('parsing real Terraform output', () => {
  it('reads a streamed plan: version, each planned change, the summary', () => {
    const { events, parser } = parseStream('plan.jsonl');
    expect(parser.stats.malformed).toBe(0);
    expect(events[0]).toMatchObject({ type: 'version', engine: '1.11.4' });
    const planned = events.filter((e) => e.type === 'planned_change').map((e) => (e.type === 'planned_change' ? [e.address, e.action] : []));
    expect(planned.sort()).toEqual([
      ['terraform_data.bucket_2', 'create'],
      ['terraform_data.vm_1', 'create'],
    ]);
    expect(events).toContainEqual(expect.objectContaining({ type: 'change_summary', operation: 'plan', add: 2, change: 0, remove: 0 }));
  });

  it('summarises the saved plan from show -json', () => {
    const summary = summarisePlan(JSON.parse(fixture('show.json')));
    expect(summary.create.sort()).toEqual(['terraform_data.bucket_2', 'terraform_data.vm_1']);
    expect(summary.counts).toEqual({ create: 2, update: 0, replace: 0, delete: 0 });
    expect(summary.hasChanges).toBe(true);
  });

  it('follows an apply: start and complete per resource, then the summary and outputs without sensitive values', () => {
    const { events, parser } = parseStream('apply.jsonl');
    expect(parser.stats.malformed).toBe(0);
    const hooks = events.filter((e) => e.type === 'apply_start' || e.type === 'apply_complete').map((e) => `${e.type}:${'address' in e ? e.address : ''}`);
    expect(hooks).toEqual([
      'apply_start:terraform_data.bucket_2',
      'apply_complete:terraform_data.bucket_2',
      'apply_start:terraform_data.vm_1',
      'apply_complete:terraform_data.vm_1',
    ]);
    const outputs = events.find((e) => e.type === 'outputs');
    expect(outputs).toMatchObject({ outputs: { secret_out: { sensitive: true }, vm_1_id: { sensitive: false } } });
    expect(JSON.stringify(outputs)).not.toContain('s3cr3t');
  });

  it('follows a destroy to its summary', () => {
    const { events, parser } = parseStream('destroy.jsonl');
    expect(parser.stats.malformed).toBe(0);
    expect(events).toContainEqual(expect.objectContaining({ type: 'change_summary', operation: 'destroy', remove: 2 }));
  });

  it('reads output -json, leaving sensitive values out', () => {
    const values = toOutputValues(outputCommandSchema.parse(JSON.parse(fixture('output.json'))));
    expect(values.secret_out).toEqual({ sensitive: true });
    expect(values.vm_1_id?.value).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('turns an error diagnostic into summary and detail', () => {
    const { events } = parseStream('plan-error.jsonl');
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'diagnostic', severity: 'error', summary: 'No value for required variable', detail: expect.stringContaining('project_id') }),
    );
  });
});
