import { describe, expect, it } from 'vitest';
import { applyArgs, destroyArgs, initArgs, outputArgs, planArgs, showArgs, versionArgs } from '../src/engine/commands/index.js';

describe('engine command argv builders', () => {
  it('builds init, output and version without prompts or colour', () => {
    expect(initArgs()).toEqual(['init', '-input=false', '-no-color']);
    expect(outputArgs()).toEqual(['output', '-json', '-no-color']);
    expect(versionArgs()).toEqual(['version', '-json']);
  });

  it('plans into the given plan file and shows and applies exactly that file', () => {
    expect(planArgs({ out: '.plans/run-7.tfplan' })).toEqual(['plan', '-input=false', '-no-color', '-json', '-out=.plans/run-7.tfplan']);
    expect(showArgs({ planFile: '.plans/run-7.tfplan' })).toEqual(['show', '-json', '-no-color', '.plans/run-7.tfplan']);
    expect(applyArgs({ planFile: '.plans/run-7.tfplan.applying' })).toEqual(['apply', '-input=false', '-no-color', '-json', '.plans/run-7.tfplan.applying']);
  });

  it('destroys the whole state without targets, and each target once, sorted, when given', () => {
    expect(destroyArgs()).toEqual(['destroy', '-input=false', '-no-color', '-json', '-auto-approve']);
    expect(destroyArgs({ targets: ['google_compute_instance.b', 'google_compute_instance.a', 'google_compute_instance.b'] })).toEqual([
      'destroy',
      '-input=false',
      '-no-color',
      '-json',
      '-auto-approve',
      '-target=google_compute_instance.a',
      '-target=google_compute_instance.b',
    ]);
  });

  it('refuses a value that the engine would read as a flag', () => {
    expect(() => showArgs({ planFile: '-destroy' })).toThrow(RangeError);
    expect(() => applyArgs({ planFile: '' })).toThrow(RangeError);
    expect(() => destroyArgs({ targets: ['-lock=false'] })).toThrow(RangeError);
  });
});
