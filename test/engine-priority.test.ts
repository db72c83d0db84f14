/**
 * Engines run at a lower CPU priority than the bot (issue 13), so a busy plan cannot starve Discord
 * acknowledgements: in the sandbox and without it, the engine process (and what it starts) is 10 steps nicer.
 */
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { toEngineEnv } from '../src/engine/credential-env.js';
import { ENGINE_NICE_INCREMENT, lowerToEnginePriority } from '../src/engine/engine-priority.js';
import { hostPidOf, makeRunnerFixture, type Invocation, type RunnerFixture } from './support/engine-env.js';

const GUILD = '111111111111111111';
const EXPECTED = Math.min(19, getPriority() + ENGINE_NICE_INCREMENT);

/** Field 19 of /proc/<pid>/stat. */
function niceOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19 - 3]);
}

let fixture: RunnerFixture | undefined;
afterEach(async () => {
  await fixture?.cleanup();
  fixture = undefined;
});

describe('engine priority', () => {
  it('a sandboxed engine runs 10 steps below the bot', async () => {
    fixture = await makeRunnerFixture();
    const project = await fixture.project(GUILD, 'Nice');
    fixture.control(project, { sleepMs: 30_000 });
    const running = fixture.runner
      .plan({ guildId: GUILD, projectSlug: project.slug, userId: '222222222222222222', credentialEnv: toEngineEnv('gcp', { project_id: 'nice-1' }), enginePreference: 'terraform', resourceId: (await fixture.resource(project)).id })
      .catch(() => undefined);
    let pid: number | undefined;
    for (let tries = 0; pid === undefined && tries < 400; tries++) {
      const plan = fixture.invocations(project).find((i: Invocation) => i.argv?.[0] === 'plan');
      pid = plan ? hostPidOf(plan) : undefined;
      if (pid === undefined) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(pid).toBeDefined();
    expect(niceOf(pid as number)).toBe(EXPECTED);
    await fixture.runner.shutdown();
    await running;
  });

  it('an engine started directly (no setpriv here) is lowered right after it starts', async () => {
    const child = execa('sleep', ['30'], { reject: false });
    try {
      lowerToEnginePriority(child.pid as number);
      expect(niceOf(child.pid as number)).toBe(EXPECTED);
    } finally {
      child.kill('SIGKILL');
      await child;
    }
  });
});
