/**
 * Telling members about runs a dead bot left unfinished (see orphans.ts): in the channel the run was started
 * from, or by DM when there is no such channel or it cannot be reached. A member whose progress message froze
 * on "Applying…" learns what happened to the run and what to do next.
 */
import type { Logger } from '../logging/logger.js';
import type { Notice, Notifier } from '../notify/notifier.js';
import type { ProjectRepository } from '../projects/project-repository.js';
import { command, member, strong, text } from '../shared/text.js';
import type { EngineAftermath, InterruptedRun } from './orphans.js';

const AFTERMATH: Record<EngineAftermath, string> = {
  not_started: 'It had not started its engine yet, so nothing was changed.',
  gone: 'Its engine is no longer running.',
  stopped: 'Its engine was still running; at the restart it was stopped cleanly and saved its state.',
  forced:
    'Its engine was still running and did not stop cleanly, so it was terminated: the state may still be locked. ' +
    'If the next run says so, ask an operator to release the lock.',
  unverifiable: 'Whether its engine is still running could not be checked. Ask an operator before starting another run in this project.',
  unstoppable: 'Its engine is still running and the bot could not stop it. Ask an operator before starting another run in this project.',
};

/** What the member is told about one interrupted run. */
export function interruptedRunNotice(run: InterruptedRun, projectName: string): Notice {
  const resource = run.resourceId === null ? '' : ` of resource #${run.resourceId}`;
  const destroyHere = command('destroy', { project: projectName, resource: run.resourceId ?? undefined });
  const next =
    run.engine === 'not_started'
      ? text`Start it again when you are ready.`
      : run.kind === 'plan' || run.kind === 'drift'
        ? text`A plan changes nothing in the cloud: run ${command('deploy')} again.`
        : run.kind === 'apply'
          ? text`Part of it may have been created: the resource is marked interrupted. ${command('projects')} shows it; ${destroyHere} removes what was made.`
          : text`Part of it may remain: run ${command('destroy', { project: projectName })} again to finish.`;
  return {
    title: `⚠️ Run #${run.runNumber} (${run.kind}) was interrupted`,
    tone: 'warning',
    description: text`${member(run.startedBy)}, your ${run.kind}${resource} in ${strong(projectName)} did not finish: the bot stopped unexpectedly while it ${run.engine === 'not_started' ? 'waited to run' : 'ran'}. ${AFTERMATH[run.engine]}\n\n${next}`,
  };
}

/** Sends each member their notice; failures are logged, never thrown (start-up goes on). */
export async function tellInterruptedMembers(
  runs: readonly InterruptedRun[],
  deps: { notifier: Notifier; projects: ProjectRepository; logger: Logger },
): Promise<void> {
  for (const run of runs) {
    let projectName = 'this project';
    try {
      projectName = (await deps.projects.getById(run.guildId, run.projectId, { includeArchived: true })).name;
    } catch {
      // A project gone from the database still deserves the notice.
    }
    const notice = interruptedRunNotice(run, projectName);
    const where = { guildId: run.guildId, runId: run.runNumber, userId: run.startedBy };
    if (run.channelId) {
      try {
        await deps.notifier.sendToChannel(run.channelId, notice);
        continue;
      } catch (error) {
        deps.logger.warn({ err: error, ...where, channelId: run.channelId }, 'could not post an interrupted-run notice in its channel; sending a DM');
      }
    }
    try {
      await deps.notifier.sendDirect(run.startedBy, notice);
    } catch (error) {
      deps.logger.warn({ err: error, ...where }, 'could not tell a member their run was interrupted');
    }
  }
}
