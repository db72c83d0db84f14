/**
 * Run in a child process by test/engine-flood.test.ts: the real runner over a real database, against the stand-in
 * engine told to misbehave (`flood` in its control file, see test/fake-engine/engine.mjs). It plans and applies one
 * resource and prints one JSON line: how each run ended and the process's peak resident memory. A crash (such as
 * "Invalid string length") shows as a non-zero exit without that line.
 *
 *   node --import tsx test/support/flood-child.ts '{"hugeLineBytes": 536870912}'
 */
import { isUserError } from '../../src/shared/errors.js';
import { toEngineEnv } from '../../src/engine/credential-env.js';
import { makeRunnerFixture } from './engine-env.js';

type Outcome = { ok: true; detail: unknown } | { ok: false; error: string; userError: boolean };

async function outcomeOf(run: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: true, detail: await run() };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error), userError: isUserError(error) };
  }
}

const flood = JSON.parse(process.argv[2] ?? '{}') as Record<string, number>;
const fixture = await makeRunnerFixture({ engines: 'terraform' });
try {
  const project = await fixture.project('111111111111111111', 'Flooded');
  const resource = await fixture.resource(project, 'bucket');
  fixture.control(project, { flood });
  const request = {
    guildId: project.guildId,
    projectSlug: project.slug,
    userId: '222222222222222222',
    credentialEnv: toEngineEnv('gcp', { project_id: 'flood-test-project' }),
    enginePreference: 'terraform' as const,
  };
  let planRunId: number | undefined;
  const plan = await outcomeOf(async () => {
    const result = await fixture.runner.plan({ ...request, resourceId: resource.id });
    planRunId = result.runId;
    return { warnings: result.warnings };
  });
  const apply =
    planRunId === undefined
      ? undefined
      : await outcomeOf(async () => {
          const result = await fixture.runner.apply({ ...request, planRunId: planRunId as number });
          return { applied: result.applied, changes: result.changes, warnings: result.warnings };
        });
  const resourceStatus = (await fixture.resources.get(project.guildId, resource.id)).status;
  // maxRSS is in kilobytes: the peak over the whole life of this process.
  const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  process.stdout.write(`${JSON.stringify({ plan, apply, resourceStatus, peakRssMb })}\n`);
} finally {
  await fixture.cleanup();
}
