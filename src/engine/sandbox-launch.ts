/**
 * How a sandboxed engine is started so that stopping works as it does outside the sandbox (death-signal.ts):
 *
 *   guardian (sh) → setpriv --pdeathsig KILL → nice → bwrap … --as-pid-1 --info-fd 3 --
 *     → setpriv --pdeathsig USR1 → keeper (sh, PID 1 inside) → env --default-signal → the engine (PID 2)
 *
 * - The engine is an ordinary process of its PID namespace, in the guardian's process group like everything in the
 *   chain: the bot's SIGINT → SIGTERM → SIGKILL, sent to the group, reach it and the providers it starts once each,
 *   and a signal it has no handler for yet ends it, exactly as outside. (As PID 1 of a namespace it would instead
 *   silently drop every signal it has no handler for, such as a cancel that comes while it is still starting.)
 * - bubblewrap and the keeper ignore SIGINT and SIGTERM (inherited from the guardian), so those are never delivered
 *   twice; SIGKILL ends the keeper, PID 1, and with it, by the kernel, everything in the namespace.
 * - If the bot dies: the guardian gets SIGKILL, bubblewrap gets SIGKILL from its parent-death signal, the keeper,
 *   whose parent bubblewrap was, gets SIGUSR1 from its own, and sends the engine its single SIGINT; it then waits for
 *   the engine to finish its graceful stop (were PID 1 to end first, the kernel would SIGKILL the engine).
 *   `--die-with-parent` is only a backstop (SIGKILL) should the keeper's own parent-death signal not be set.
 * - bubblewrap writes the keeper's host pid on descriptor 3 (`"child-pid"`). That is what is recorded for the next
 *   start-up (orphans.ts): the keeper lives exactly as long as the engine (it exits with the engine's status), its
 *   process group is the engine's, and it ignores the SIGINT and SIGTERM sent to that group. Until the keeper's child
 *   has become the engine it ignores SIGINT too; the first SIGINT waits for that (signal-readiness.ts).
 */
import { SH, type GuardianTools, type EngineLaunch } from './death-signal.js';
import { atEnginePriority } from './engine-priority.js';

/** The guardian outside: as death-signal.ts's, but bubblewrap reports the pid itself, so descriptor 3 is passed on. */
const GUARDIAN_SCRIPT = 'trap "" INT TERM; "$@" & exec 3>&-; wait $!';

/**
 * The keeper, PID 1 inside: "$@" is env, its options, the engine and its arguments. `wait` returns early (above 128)
 * when the trap runs; it is waited for again until the engine has really ended, and its status is the keeper's.
 */
const KEEPER_SCRIPT = [
  'trap \'kill -INT "$pid" 2>/dev/null\' USR1',
  '"$@" &',
  'pid=$!',
  'while :; do wait "$pid"; status=$?; if [ "$status" -le 128 ] || ! kill -0 "$pid" 2>/dev/null; then break; fi; done',
  'exit "$status"',
].join('\n');

/** What bubblewrap is run with (sandbox-mounts.ts): its path and its options, up to (not including) `--`. */
export interface SandboxInvocation {
  bwrap: string;
  options: string[];
}

/** The launch of `binary args` (paths as the engine sees them) with exactly the environment `env`, in the sandbox. */
export function sandboxedEngineLaunch(
  command: { binary: string; args: string[]; env: Record<string, string> },
  sandbox: SandboxInvocation,
  guardian: GuardianTools,
): EngineLaunch {
  // The shells add PWD to their children's environment; the engine gets only what it was given.
  const unset = 'PWD' in command.env ? [] : ['-u', 'PWD'];
  const bwrap = [sandbox.bwrap, ...sandbox.options, '--as-pid-1', '--die-with-parent', '--info-fd', '3', '--'];
  const keeper = [guardian.setpriv, '--pdeathsig', 'USR1', '--', SH, '-c', KEEPER_SCRIPT, 'engine-keeper'];
  const engine = [guardian.env, ...unset, '--default-signal', command.binary, ...command.args];
  return {
    file: guardian.setpriv,
    args: ['--pdeathsig', 'KILL', '--', SH, '-c', GUARDIAN_SCRIPT, 'engine-guardian', guardian.setpriv, '--pdeathsig', 'KILL', '--', ...atEnginePriority([...bwrap, ...keeper, ...engine])],
    stopsWithBot: true,
    reportsEnginePid: true,
  };
}
