/**
 * A stand-in for `terraform` and `tofu`, for tests. `bin/terraform` and `bin/tofu` call `runFakeEngine(name)`.
 * It follows Terraform's documented machine-readable formats (developer.hashicorp.com/terraform/internals/machine-readable-ui
 * and /terraform/internals/json-format): the streaming `-json` UI, `show -json` plan JSON, `version -json` and the
 * version 4 local state file. The parsers are also checked against real output in test/fixtures/terraform-1.11.4/.
 *
 * Commands: `version -json`, `init`, `plan -json -out=FILE [-target=ADDR]... [-destroy]`, `show -json FILE`,
 * `plan -json -refresh-only [-detailed-exitcode] [-out=FILE]`, `apply -json FILE`, `apply -json -auto-approve [-refresh-only]`, `destroy -json -auto-approve [-target=ADDR]...`, `output -json`.
 * Unknown flags fail like the real engine ("flag provided but not defined"), so tests catch wrong arguments.
 *
 * What it plans: every `resource` block of every `*.tf.json` in the working directory, compared with
 * `terraform.tfstate`. `show -json` gives each change's planned values as the real engine does: `change.after`
 * holds the configured values, and a value known only at apply (here: every string holding `${…}`, and a new
 * resource's `id`) is left out of it and marked `true` in `change.after_unknown`; `configuration` holds each
 * resource's expressions (`constant_value`, or `references` for an interpolation). Variables without a default must
 * come from `TF_VAR_<name>` or a `*.auto.tfvars.json` file in the working directory (as the real engine with
 * TF_INPUT=0: "No value for required variable"). Unlike the real engine, the plan file does NOT store variable
 * values (the real one does; see docs/security.md), so tests can grep a workspace for secrets.
 *
 * BEHAVIOUR KNOBS. The product gives the engine a minimal environment, so tests cannot steer this script through
 * environment variables. Instead a test writes `fake-engine.json` into the working directory (all optional):
 *   {
 *     "sleepMs": 0,                    // pause between streamed events (plan, apply, destroy)
 *     "failInit": "summary",           // init fails with this error text
 *     "failShow": true,                // show exits 1 (after plan has written its plan file)
 *     "failPlan": { "summary": "...", "detail": "..." },            // plan ends with an error diagnostic
 *     "failApply": { "summary": "...", "detail": "...", "address": "aws_instance.vm_1" }
 *                                      // applying that address (or the first one) errors: apply_errored + diagnostic
 *     "warnings": [{ "summary": "...", "detail": "..." }],          // warning diagnostics in plan/apply/destroy
 *     "emitGarbage": true,             // also print malformed lines and unknown message types
 *     "ignoreSigint": true,            // SIGINT is logged but ignored (forces the runner to escalate)
 *     "ignoreSigterm": true,           // SIGTERM is logged but ignored (only SIGKILL ends it)
 *     "crashMidApply": true,           // exits abruptly (code 2, no state written) after the first apply_start
 *     "googleIds": true,               // google_compute_instance ids as the real provider writes them:
 *                                      // projects/<TF_VAR_project_id>/zones/<zone>/instances/<name>
 *     "flood": {                       // a misbehaving engine (or provider), for the bot's output limits:
 *       "hugeLineBytes": 536870912,    //   plan/apply/destroy first print one line of this many bytes (not JSON)
 *       "progressLines": 2000000,      //   apply/destroy print this many apply_progress lines per resource,
 *       "progressMessageBytes": 2048,  //   each with a message padded to this size
 *       "showBytes": 40000000          //   show -json pads its (still valid) JSON document to at least this size
 *     },
 *     "invocationLog": "/abs/path.jsonl", // where to record invocations (default: .fake-engine-invocations.jsonl in cwd)
 *     "drift": {                       // what changed in the cloud outside the engine, seen by a refresh:
 *       "aws_instance.vm_1": { "attributes": { "instance_type": "t3.large" }, "sensitive": ["password"] },
 *       "aws_s3_bucket.b_2": { "deleted": true }
 *     }                                //   `attributes` are the cloud's values now (merged over the state's);
 *   }                                  //   `sensitive` names top-level attributes the provider marks sensitive
 *
 * DRIFT. `plan -refresh-only` compares the state with the cloud (state + `drift`): each resource whose values differ
 * is a `resource_drift` message in the stream and a `resource_drift` entry (before/after with before_sensitive and
 * after_sensitive) in `show -json`; with `-detailed-exitcode` it exits 2 when something drifted, 0 when nothing did.
 * `apply -refresh-only -auto-approve` writes the cloud's values into the state, so the next check finds no drift. A
 * normal plan refreshes too: a drifted resource is planned as an update back to its configuration (a deleted one as a
 * create).
 *
 * ECHOES. Real providers quote what they were given (a key file that does not parse, a project id). In the texts of
 * failInit, failPlan, failApply and warnings, `{{env:NAME}}` becomes the value of the variable NAME the engine
 * received, and `{{env:NAME:json}}`, `{{env:NAME:url}}`, `{{env:NAME:upper}}` that value JSON-escaped (as inside a
 * JSON string), percent-encoded, or upper-cased.
 *
 * INVOCATION LOG. Every run (but `version`, unless the control file exists) appends one JSON line: { pid, engine, argv, cwd, env (every variable it received, names
 * and values), at }, and one line { pid, signal } per signal received; every line also has `pidNamespace` (the
 * engine sandbox gives each engine one of its own: see hostPidOf in test/support/engine-env.ts). Tests read it to
 * check arguments, the child's environment and which signals arrived. It holds secrets by design: it is a test
 * artefact, not product output.
 */
/* global process, setTimeout, clearTimeout */
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';

// The product gives the engine a minimal environment, so these are set only by a wrapper script a test puts on
// PATH in place of the plain link (see enginePath in test/support/engine-env.ts): to be an older or newer engine.
const VERSIONS = { terraform: process.env.FAKE_TERRAFORM_VERSION ?? '1.9.8', tofu: process.env.FAKE_TOFU_VERSION ?? '1.8.5' };
const FLOOD_CHUNK_BYTES = 1024 * 1024;
const STATE_FILE = 'terraform.tfstate';
const LOCK_FILE = '.terraform.tfstate.lock.info';

function ownPidNamespace() {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return null;
  }
}

export async function runFakeEngine(engine) {
  const cwd = process.cwd();
  const control = readControl(cwd);
  const logPath = control.invocationLog ?? join(cwd, '.fake-engine-invocations.jsonl');
  // In the bot's sandbox this process has a PID namespace of its own: tests find its host pid through this.
  const pidNamespace = ownPidNamespace();
  const log = (entry) => {
    try {
      appendFileSync(logPath, `${JSON.stringify({ pid: process.pid, pidNamespace, ...entry })}\n`);
    } catch {
      // A read-only cwd (e.g. `version` run from anywhere) must not break the engine.
    }
  };
  const argv = process.argv.slice(2);
  // `version` is probed from wherever the runner happens to be (often the repository root): log it only where a
  // test asked for it, so probes leave no files behind.
  if (argv[0] !== 'version' || existsSync(join(cwd, 'fake-engine.json'))) {
    log({ engine, argv, cwd, env: { ...process.env }, at: new Date().toISOString() });
  }

  const state = { interrupted: false, wake: null };
  process.on('SIGINT', () => {
    log({ signal: 'SIGINT' });
    if (control.ignoreSigint) return;
    state.interrupted = true;
    state.wake?.();
  });
  process.on('SIGTERM', () => {
    log({ signal: 'SIGTERM' });
    if (control.ignoreSigterm) return;
    process.exit(143);
  });

  const ui = new Ui(engine);
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'version':
        return cmdVersion(engine, parseFlags(rest, ['json']));
      case 'init':
        return cmdInit(engine, control, parseFlags(rest, ['input', 'no-color', 'upgrade', 'reconfigure']));
      case 'plan':
        return await cmdPlan(ui, control, state, parseFlags(rest, ['json', 'out', 'input', 'no-color', 'target', 'destroy', 'lock-timeout', 'refresh-only', 'detailed-exitcode']));
      case 'show':
        if (control.failShow) return usageError('Failed to read the given file as a state or plan file');
        return await cmdShow(engine, control, parseFlags(rest, ['json', 'no-color'], 1));
      case 'apply':
        return await cmdApply(ui, control, state, parseFlags(rest, ['json', 'input', 'no-color', 'auto-approve', 'target', 'lock-timeout', 'refresh-only'], 1));
      case 'destroy':
        return await cmdDestroy(ui, control, state, parseFlags(rest, ['json', 'input', 'no-color', 'auto-approve', 'target', 'lock-timeout']));
      case 'output':
        return cmdOutput(parseFlags(rest, ['json', 'no-color'], 1));
      default:
        return usageError(`unknown command ${JSON.stringify(command ?? '')}`);
    }
  } catch (error) {
    if (error instanceof UsageError) return usageError(error.message);
    throw error;
  }
}

class UsageError extends Error {}

function usageError(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exitCode = 1;
}

/** Parses `-name`, `-name=value` (repeatable) and at most `maxPositional` positional arguments. */
function parseFlags(args, allowed, maxPositional = 0) {
  const flags = new Map();
  const positional = [];
  for (const arg of args) {
    if (arg.startsWith('-')) {
      const body = arg.replace(/^--?/, '');
      const eq = body.indexOf('=');
      const name = eq === -1 ? body : body.slice(0, eq);
      const value = eq === -1 ? true : body.slice(eq + 1);
      if (!allowed.includes(name)) throw new UsageError(`flag provided but not defined: -${name}`);
      flags.set(name, [...(flags.get(name) ?? []), value]);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length > maxPositional) throw new UsageError(`too many command line arguments: ${positional.join(' ')}`);
  return { has: (n) => flags.has(n), one: (n) => flags.get(n)?.at(-1), all: (n) => flags.get(n) ?? [], positional };
}

function readControl(cwd) {
  const path = join(cwd, 'fake-engine.json');
  if (!existsSync(path)) return {};
  return expandEchoes(JSON.parse(readFileSync(path, 'utf8')));
}

const ECHO_ENCODINGS = {
  raw: (value) => value,
  json: (value) => JSON.stringify(value).slice(1, -1),
  url: (value) => encodeURIComponent(value),
  upper: (value) => value.toUpperCase(),
};

/** Replaces `{{env:NAME[:encoding]}}` in every string of the control file (see ECHOES above). */
function expandEchoes(node) {
  if (typeof node === 'string') {
    return node.replace(/\{\{env:([A-Za-z0-9_]+)(?::(raw|json|url|upper))?\}\}/g, (_m, name, encoding) => ECHO_ENCODINGS[encoding ?? 'raw'](process.env[name] ?? ''));
  }
  if (Array.isArray(node)) return node.map(expandEchoes);
  if (node && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, expandEchoes(v)]));
  return node;
}

// ---------------------------------------------------------------------------------------------------------------
// Streaming UI

class Ui {
  constructor(engine) {
    this.engine = engine;
    this.module = engine === 'tofu' ? 'tofu.ui' : 'terraform.ui';
  }
  emit(level, message, type, extra = {}) {
    const line = { '@level': level, '@message': message, '@module': this.module, '@timestamp': new Date().toISOString(), type, ...extra };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  }
  version() {
    const name = this.engine === 'tofu' ? 'OpenTofu' : 'Terraform';
    this.emit('info', `${name} ${VERSIONS[this.engine]}`, 'version', { [this.engine === 'tofu' ? 'tofu' : 'terraform']: VERSIONS[this.engine], ui: '1.2' });
  }
  diagnostic(severity, summary, detail = '', address) {
    const diagnostic = { severity, summary, detail, ...(address ? { address } : {}) };
    this.emit(severity === 'error' ? 'error' : 'warn', `${severity === 'error' ? 'Error' : 'Warning'}: ${summary}`, 'diagnostic', { diagnostic });
  }
  garbage() {
    process.stdout.write('this is not json\n');
    process.stdout.write('{"type":"planned_change","change":"not an object"}\n');
    process.stdout.write('[1,2,3]\n');
    this.emit('info', 'something new', 'some_future_type', { future: { x: 1 } });
    process.stdout.write('{"@level":"info","type":\n');
  }
}

function resourceObject(address) {
  const [type, name] = address.split('.');
  return { addr: address, module: '', resource: address, implied_provider: type.split('_')[0], resource_type: type, resource_name: name, resource_key: null };
}

const UI_ACTION = { 'no-op': 'noop', create: 'create', update: 'update', delete: 'delete', replace: 'replace' };
const VERB = { create: ['Creating...', 'Creation complete'], update: ['Modifying...', 'Modifications complete'], delete: ['Destroying...', 'Destruction complete'], replace: ['Replacing...', 'Replacement complete'] };

// ---------------------------------------------------------------------------------------------------------------
// Configuration and state

function readConfiguration(cwd) {
  const config = { resources: new Map(), variables: new Map(), outputs: new Map() };
  for (const file of readdirSync(cwd).filter((f) => f.endsWith('.tf.json')).sort()) {
    const doc = JSON.parse(readFileSync(join(cwd, file), 'utf8'));
    for (const [type, byName] of Object.entries(doc.resource ?? {})) {
      for (const [name, body] of Object.entries(byName)) config.resources.set(`${type}.${name}`, body);
    }
    for (const [name, body] of Object.entries(doc.variable ?? {})) config.variables.set(name, body);
    for (const [name, body] of Object.entries(doc.output ?? {})) config.outputs.set(name, body);
  }
  return config;
}

function readState(cwd) {
  const path = join(cwd, STATE_FILE);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8'));
}

function stateResources(state) {
  const map = new Map();
  for (const r of state?.resources ?? []) {
    if (r.mode === 'managed') map.set(`${r.type}.${r.name}`, r.instances[0]?.attributes ?? {});
  }
  return map;
}

function writeState(cwd, engine, prior, resources, outputs) {
  const state = {
    version: 4,
    terraform_version: VERSIONS[engine],
    serial: (prior?.serial ?? 0) + 1,
    lineage: prior?.lineage ?? randomUUID(),
    outputs,
    resources: [...resources].map(([address, attributes]) => {
      const [type, name] = address.split('.');
      return { mode: 'managed', type, name, provider: `provider["registry.terraform.io/hashicorp/${type.split('_')[0]}"]`, instances: [{ schema_version: 0, attributes }] };
    }),
    check_results: null,
  };
  // Write then rename, as the engine does, so a crash never leaves half a state file.
  writeFileSync(join(cwd, `${STATE_FILE}.tmp`), JSON.stringify(state, null, 2));
  renameSync(join(cwd, `${STATE_FILE}.tmp`), join(cwd, STATE_FILE));
  return state;
}

/** The values of `terraform.tfvars.json` and `*.auto.tfvars.json`, as the real engine loads them (lexical order). */
function variableFiles(cwd) {
  const files = readdirSync(cwd).filter((f) => f === 'terraform.tfvars.json' || f.endsWith('.auto.tfvars.json')).sort();
  return Object.assign({}, ...files.map((f) => JSON.parse(readFileSync(join(cwd, f), 'utf8'))));
}

function missingVariables(config) {
  const fromFiles = variableFiles(process.cwd());
  return [...config.variables]
    .filter(([name, body]) => body.default === undefined && process.env[`TF_VAR_${name}`] === undefined && !(name in fromFiles))
    .map(([n]) => n);
}

/** Attributes the engine would store: the configuration plus what the provider computes. */
function appliedAttributes(address, body, index, control) {
  const realistic = control.googleIds && address.startsWith('google_compute_instance.') && process.env.TF_VAR_project_id;
  const id = realistic
    ? `projects/${process.env.TF_VAR_project_id}/zones/${body.zone}/instances/${body.name}`
    : `fake-${address.replace(/[^a-z0-9]+/gi, '-')}-${index}`;
  return { ...stripInterpolations(body), id, fake_ip: `198.51.100.${(index % 250) + 1}` };
}

function stripInterpolations(value) {
  if (Array.isArray(value)) return value.map(stripInterpolations);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripInterpolations(v)]));
  if (typeof value === 'string' && value.includes('${')) return '(interpolated)';
  return value;
}

function computeChanges(config, prior, { destroy, targets, drift = {} }) {
  const current = stateResources(prior);
  // A normal plan refreshes first: what drifted (the `drift` knob) is put back as configured.
  for (const [address, seen] of Object.entries(drift)) {
    if (!current.has(address)) continue;
    if (seen.deleted) current.delete(address);
    else current.set(address, { ...current.get(address), ...(seen.attributes ?? {}), config_digest: 'drifted' });
  }
  const changes = [];
  const addresses = new Set([...config.resources.keys(), ...current.keys()]);
  for (const address of [...addresses].sort()) {
    if (targets.length > 0 && !targets.includes(address)) continue;
    const desired = config.resources.get(address);
    const existing = current.get(address);
    let actions;
    if (destroy) actions = existing ? ['delete'] : null;
    else if (!existing) actions = ['create'];
    else if (!desired) actions = ['delete'];
    else actions = existing.config_digest === JSON.stringify(desired) ? ['no-op'] : ['update'];
    if (actions) changes.push({ address, actions, before: existing ?? null, after: destroy || !desired ? null : stripInterpolations(desired) });
  }
  return changes;
}

function uiAction(actions) {
  if (actions.length === 2) return 'replace';
  return UI_ACTION[actions[0]];
}

function counts(changes) {
  const c = { add: 0, change: 0, remove: 0 };
  for (const ch of changes) {
    const a = uiAction(ch.actions);
    if (a === 'create') c.add++;
    else if (a === 'update') c.change++;
    else if (a === 'delete') c.remove++;
    else if (a === 'replace') {
      c.add++;
      c.remove++;
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------------------------
// Commands

function cmdVersion(engine, flags) {
  if (flags.has('json')) {
    process.stdout.write(`${JSON.stringify({ terraform_version: VERSIONS[engine], platform: 'linux_amd64', provider_selections: {}, terraform_outdated: false }, null, 2)}\n`);
  } else {
    process.stdout.write(`${engine === 'tofu' ? 'OpenTofu' : 'Terraform'} v${VERSIONS[engine]}\non linux_amd64\n`);
  }
}

function cmdInit(engine, control) {
  if (control.failInit) {
    process.stderr.write(`\nError: ${control.failInit}\n\n`);
    process.exitCode = 1;
    return;
  }
  mkdirSync(join(process.cwd(), '.terraform'), { recursive: true });
  writeFileSync(join(process.cwd(), '.terraform.lock.hcl'), '# This file is maintained automatically by "init".\n');
  process.stdout.write(`\nInitializing the backend...\n\n${engine === 'tofu' ? 'OpenTofu' : 'Terraform'} has been successfully initialized!\n`);
}

function requireInit(ui) {
  if (existsSync(join(process.cwd(), '.terraform'))) return true;
  ui.diagnostic('error', 'Inconsistent dependency lock file', 'The working directory has not been initialized. Run init.');
  process.exitCode = 1;
  return false;
}

function sleep(ms, state) {
  if (!ms || state.interrupted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    state.wake = () => {
      clearTimeout(timer);
      resolve();
    };
  });
}

function withLock(cwd, fn) {
  writeFileSync(join(cwd, LOCK_FILE), JSON.stringify({ ID: randomUUID(), Operation: 'OperationTypeApply', Who: 'fake', Created: new Date().toISOString() }));
  return fn().finally(() => rmSync(join(cwd, LOCK_FILE), { force: true }));
}

function interruptedExit(ui) {
  ui.diagnostic('error', 'Operation cancelled', 'The operation was interrupted; the state has been saved and the lock released.');
  process.exitCode = 1;
}

async function streamPlan(ui, control, state, changes) {
  for (const ch of changes) {
    if (ch.actions[0] === 'no-op') continue;
    await sleep(control.sleepMs, state);
    if (state.interrupted) return false;
    const action = uiAction(ch.actions);
    ui.emit('info', `${ch.address}: Plan to ${action}`, 'planned_change', { change: { resource: resourceObject(ch.address), action } });
  }
  for (const w of control.warnings ?? []) ui.diagnostic('warning', w.summary, w.detail);
  if (control.emitGarbage) ui.garbage();
  return true;
}

async function cmdPlan(ui, control, state, flags) {
  const cwd = process.cwd();
  if (!flags.has('json')) throw new UsageError('this stand-in only speaks -json');
  ui.version();
  await floodHugeLine(control);
  if (!requireInit(ui)) return;
  const config = readConfiguration(cwd);
  if (reportMissingVariables(ui, config)) return;
  const prior = readState(cwd);
  if (flags.has('refresh-only')) return refreshOnlyPlan(ui, control, flags, prior);
  await withLock(cwd, async () => {
    const changes = computeChanges(config, prior, { destroy: flags.has('destroy'), targets: flags.all('target'), drift: control.drift });
    if (!(await streamPlan(ui, control, state, changes))) return interruptedExit(ui);
    if (control.failPlan) {
      ui.diagnostic('error', control.failPlan.summary, control.failPlan.detail ?? '');
      process.exitCode = 1;
      return;
    }
    const c = counts(changes);
    ui.emit('info', `Plan: ${c.add} to add, ${c.change} to change, ${c.remove} to destroy.`, 'change_summary', { changes: { ...c, import: 0, operation: 'plan' } });
    const out = flags.one('out');
    if (typeof out === 'string') {
      const plan = {
        fake_plan_file: 1,
        engine: ui.engine,
        prior_lineage: prior?.lineage ?? null,
        prior_serial: prior?.serial ?? null,
        changes,
        configuration: { resources: Object.fromEntries(config.resources), outputs: Object.fromEntries(config.outputs) },
        // Names only; see the header comment.
        variables: [...config.variables.keys()],
      };
      writeFileSync(join(cwd, out), JSON.stringify(plan));
    }
  });
}

/** What a refresh would find: each resource of the state whose cloud values (the `drift` knob) differ from it. */
function computeDrift(control, prior) {
  const drift = [];
  for (const [address, before] of stateResources(prior)) {
    const seen = control.drift?.[address];
    if (!seen) continue;
    const sensitive = Object.fromEntries((seen.sensitive ?? []).map((name) => [name, true]));
    if (seen.deleted) {
      drift.push({ address, actions: ['delete'], before, after: null, sensitive });
      continue;
    }
    const after = { ...before, ...(seen.attributes ?? {}) };
    if (JSON.stringify(after) !== JSON.stringify(before)) drift.push({ address, actions: ['update'], before, after, sensitive });
  }
  return drift;
}

async function refreshOnlyPlan(ui, control, flags, prior) {
  const cwd = process.cwd();
  const drift = computeDrift(control, prior);
  for (const d of drift) {
    ui.emit('info', `${d.address}: Drift detected (${d.actions[0]})`, 'resource_drift', { change: { resource: resourceObject(d.address), action: d.actions[0] } });
  }
  if (control.failPlan) {
    ui.diagnostic('error', control.failPlan.summary, control.failPlan.detail ?? '');
    process.exitCode = 1;
    return;
  }
  ui.emit('info', 'Plan: 0 to add, 0 to change, 0 to destroy.', 'change_summary', { changes: { add: 0, change: 0, remove: 0, import: 0, operation: 'plan' } });
  const out = flags.one('out');
  if (typeof out === 'string') {
    const plan = { fake_plan_file: 1, refresh_only: true, engine: ui.engine, prior_lineage: prior?.lineage ?? null, prior_serial: prior?.serial ?? null, changes: [], drift, configuration: { resources: {}, outputs: {} }, variables: [] };
    writeFileSync(join(cwd, out), JSON.stringify(plan));
  }
  if (flags.has('detailed-exitcode') && drift.length > 0) process.exitCode = 2;
}

/** `apply -refresh-only -auto-approve`: the cloud's values become the state's; nothing in the cloud changes. */
async function refreshOnlyApply(ui, control) {
  const cwd = process.cwd();
  const prior = readState(cwd);
  const drift = computeDrift(control, prior);
  const resources = stateResources(prior);
  for (const d of drift) {
    ui.emit('info', `${d.address}: Drift detected (${d.actions[0]})`, 'resource_drift', { change: { resource: resourceObject(d.address), action: d.actions[0] } });
    if (d.after === null) resources.delete(d.address);
    else resources.set(d.address, d.after);
  }
  await withLock(cwd, async () => {
    writeState(cwd, ui.engine, prior, resources, prior?.outputs ?? {});
  });
  ui.emit('info', 'Apply complete! Resources: 0 added, 0 changed, 0 destroyed.', 'change_summary', { changes: { add: 0, change: 0, remove: 0, import: 0, operation: 'apply' } });
}

function readPlanFile(path) {
  const plan = JSON.parse(readFileSync(join(process.cwd(), path), 'utf8'));
  if (plan.fake_plan_file !== 1) throw new UsageError('Failed to load the plan file: not a plan file');
  return plan;
}

async function cmdShow(engine, control, flags) {
  const [file] = flags.positional;
  if (!flags.has('json') || !file) throw new UsageError('show needs -json and a plan file');
  const plan = readPlanFile(file);
  const json = {
    format_version: '1.2',
    terraform_version: VERSIONS[engine],
    variables: Object.fromEntries(plan.variables.map((n) => [n, { value: '(sensitive value)' }])),
    planned_values: { root_module: {} },
    resource_changes: plan.changes.map((ch) => {
      const [type, name] = ch.address.split('.');
      const body = plan.configuration.resources[ch.address];
      const planned = ch.after === null || body === undefined ? { known: null, unknown: {} } : plannedValues(body);
      const afterUnknown = { ...(planned.unknown || {}), ...(ch.actions.includes('create') ? { id: true } : {}) };
      return {
        address: ch.address,
        mode: 'managed',
        type,
        name,
        provider_name: `registry.terraform.io/hashicorp/${type.split('_')[0]}`,
        change: { actions: ch.actions, before: ch.before, after: planned.known, after_unknown: afterUnknown, before_sensitive: {}, after_sensitive: {} },
      };
    }),
    ...(plan.drift
      ? {
          resource_drift: plan.drift.map((d) => {
            const [type, name] = d.address.split('.');
            return {
              address: d.address,
              mode: 'managed',
              type,
              name,
              provider_name: `registry.terraform.io/hashicorp/${type.split('_')[0]}`,
              change: { actions: d.actions, before: d.before, after: d.after, after_unknown: {}, before_sensitive: d.sensitive, after_sensitive: d.after === null ? false : d.sensitive },
            };
          }),
        }
      : {}),
    output_changes: {},
    prior_state: {},
    configuration: {
      root_module: {
        resources: Object.entries(plan.configuration.resources).map(([address, body]) => {
          const [type, name] = address.split('.');
          return { address, mode: 'managed', type, name, provider_config_key: type.split('_')[0], expressions: expressionsOf(body) };
        }),
      },
    },
    relevant_attributes: [],
    timestamp: new Date().toISOString(),
    applyable: plan.changes.some((c) => c.actions[0] !== 'no-op'),
    complete: true,
    errored: false,
  };
  const text = JSON.stringify(json);
  const padding = Math.max(0, (control.flood?.showBytes ?? 0) - text.length);
  // Whitespace before the closing brace keeps the document valid JSON, only (much) larger.
  await writeOut(text.slice(0, -1));
  await writeRepeated(' ', padding);
  await writeOut('}\n');
}

/**
 * A configuration body as `change.after` and `change.after_unknown`: strings holding `${…}` are known only at apply,
 * so they are left out of objects (null in lists) and marked true, as the real engine marks computed values.
 */
function plannedValues(value) {
  if (typeof value === 'string' && value.includes('${')) return { known: undefined, unknown: true };
  if (Array.isArray(value)) {
    const parts = value.map(plannedValues);
    return { known: parts.map((p) => p.known ?? null), unknown: parts.some((p) => p.unknown) ? parts.map((p) => p.unknown) : false };
  }
  if (value && typeof value === 'object') {
    const known = {};
    const unknown = {};
    for (const [key, child] of Object.entries(value)) {
      const part = plannedValues(child);
      if (part.known !== undefined) known[key] = part.known;
      if (part.unknown) unknown[key] = part.unknown;
    }
    return { known, unknown: Object.keys(unknown).length > 0 ? unknown : false };
  }
  return { known: value, unknown: false };
}

/** A configuration body as the plan's `configuration` expressions: blocks (lists of objects) nest, values do not. */
function expressionsOf(body) {
  return Object.fromEntries(
    Object.entries(body).map(([key, value]) => {
      if (Array.isArray(value) && value.every((item) => item && typeof item === 'object' && !Array.isArray(item))) return [key, value.map(expressionsOf)];
      if (typeof value === 'string' && value.includes('${')) return [key, { references: [...value.matchAll(/\$\{([^}]+)\}/g)].map((m) => m[1]) }];
      return [key, { constant_value: value }];
    }),
  );
}

/** Writes to stdout, waiting when the pipe is full, so the stand-in itself never holds a flood in memory. */
async function writeOut(text) {
  if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once('drain', resolve));
}

async function writeRepeated(text, totalBytes) {
  if (totalBytes <= 0) return;
  const chunk = text.repeat(Math.max(1, Math.floor(FLOOD_CHUNK_BYTES / text.length)));
  let written = 0;
  while (written < totalBytes) {
    const piece = totalBytes - written >= chunk.length ? chunk : chunk.slice(0, totalBytes - written);
    await writeOut(piece);
    written += piece.length;
  }
}

/** The flood's one huge line: bytes without a newline, then the newline. */
async function floodHugeLine(control) {
  const bytes = control.flood?.hugeLineBytes ?? 0;
  if (bytes <= 0) return;
  await writeRepeated('x', bytes);
  await writeOut('\n');
}

/** The flood's progress lines for one resource, written in batches (one string, many lines). */
async function floodProgress(ui, control, address, action) {
  const count = control.flood?.progressLines ?? 0;
  if (count <= 0) return;
  const message = `${address}: Still working...`.padEnd(control.flood?.progressMessageBytes ?? 0, '.');
  const line = `${JSON.stringify({ '@level': 'info', '@message': message, '@module': ui.module, type: 'apply_progress', hook: { resource: resourceObject(address), action, elapsed_seconds: 1 } })}\n`;
  await writeRepeated(line, count * line.length);
}

function resolveOutputs(configOutputs, resources) {
  const outputs = {};
  for (const [name, body] of Object.entries(configOutputs)) {
    outputs[name] = { value: resolveExpression(body.value, resources), type: 'string', sensitive: body.sensitive === true };
  }
  return outputs;
}

function resolveExpression(value, resources) {
  if (typeof value !== 'string') return value;
  const match = /^\$\{([a-z0-9_]+)\.([a-z0-9_]+)\.([^}]+)\}$/i.exec(value);
  if (!match) return value;
  const attrs = resources.get(`${match[1]}.${match[2]}`);
  if (!attrs) return null;
  let current = attrs;
  for (const part of match[3].split(/[.[\]]+/).filter(Boolean)) current = current?.[/^\d+$/.test(part) ? Number(part) : part];
  if (current === undefined) return /ip|address/.test(match[3]) ? attrs.fake_ip : attrs.id;
  return current;
}

/** Applies `changes` one by one, writing state after each, as the real engine does. */
async function applyChanges(ui, control, state, changes, prior, configOutputs, operation) {
  const cwd = process.cwd();
  const resources = stateResources(prior);
  let current = prior;
  const c = { add: 0, change: 0, remove: 0 };
  let index = (prior?.serial ?? 0) * 100;
  for (const ch of changes) {
    if (ch.actions[0] === 'no-op') continue;
    if (state.interrupted) break;
    const action = uiAction(ch.actions);
    const resource = resourceObject(ch.address);
    ui.emit('info', `${ch.address}: ${VERB[action][0]}`, 'apply_start', { hook: { resource, action } });
    if (control.crashMidApply) {
      process.stderr.write('panic: runtime error: invalid memory address or nil pointer dereference\n');
      process.exit(2);
    }
    await sleep(control.sleepMs, state);
    await floodProgress(ui, control, ch.address, action);
    ui.emit('info', `${ch.address}: Still ${VERB[action][0].toLowerCase()} [1s elapsed]`, 'apply_progress', { hook: { resource, action, elapsed_seconds: 1 } });
    await sleep(control.sleepMs, state);
    const failing = control.failApply && (!control.failApply.address || control.failApply.address === ch.address);
    if (failing) {
      ui.emit('error', `${ch.address}: ${action} errored after 1s`, 'apply_errored', { hook: { resource, action, elapsed_seconds: 1 } });
      ui.diagnostic('error', control.failApply.summary, control.failApply.detail ?? '', ch.address);
      current = writeState(cwd, ui.engine, current, resources, resolveOutputs(configOutputs, resources));
      process.exitCode = 1;
      return;
    }
    if (action === 'delete') {
      resources.delete(ch.address);
      c.remove++;
    } else {
      const body = ch.after ?? {};
      const attrs = { ...appliedAttributes(ch.address, body, ++index, control), config_digest: JSON.stringify(ch.configBody ?? body) };
      resources.set(ch.address, action === 'update' ? { ...ch.before, ...attrs, id: ch.before?.id ?? attrs.id } : attrs);
      if (action === 'create') c.add++;
      else c.change++;
    }
    const done = resources.get(ch.address);
    ui.emit('info', `${ch.address}: ${VERB[action][1]} after 1s`, 'apply_complete', {
      hook: { resource, action, ...(done ? { id_key: 'id', id_value: done.id } : {}), elapsed_seconds: 1 },
    });
    current = writeState(cwd, ui.engine, current, resources, {});
  }
  const outputs = operation === 'destroy' ? {} : resolveOutputs(configOutputs, resources);
  current = writeState(cwd, ui.engine, current, resources, outputs);
  if (state.interrupted) return interruptedExit(ui);
  for (const w of control.warnings ?? []) ui.diagnostic('warning', w.summary, w.detail);
  const verb = operation === 'destroy' ? 'Destroy complete!' : 'Apply complete!';
  ui.emit('info', `${verb} Resources: ${c.add} added, ${c.change} changed, ${c.remove} destroyed.`, 'change_summary', { changes: { ...c, import: 0, operation } });
  ui.emit('info', 'Outputs: ' + Object.keys(outputs).length, 'outputs', {
    outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { sensitive: v.sensitive, type: v.type, value: v.sensitive ? undefined : v.value, action: 'create' }])),
  });
}

async function cmdApply(ui, control, state, flags) {
  const cwd = process.cwd();
  if (!flags.has('json')) throw new UsageError('this stand-in only speaks -json');
  ui.version();
  await floodHugeLine(control);
  if (!requireInit(ui)) return;
  const [file] = flags.positional;
  if (!file) {
    if (!flags.has('auto-approve')) throw new UsageError('apply without a plan file needs -auto-approve when input is disabled');
    if (flags.has('refresh-only')) return refreshOnlyApply(ui, control);
    return runWithoutPlanFile(ui, control, state, flags, 'apply');
  }
  if (flags.has('auto-approve') || flags.has('target') || flags.has('refresh-only')) throw new UsageError('-target, -refresh-only and -auto-approve make no sense with a saved plan');
  const plan = readPlanFile(file);
  const prior = readState(cwd);
  if ((prior?.lineage ?? null) !== plan.prior_lineage || (prior?.serial ?? null) !== plan.prior_serial) {
    ui.diagnostic('error', 'Saved plan is stale', 'The given plan file can no longer be applied because the state was changed by another operation after the plan was created.');
    process.exitCode = 1;
    return;
  }
  const changes = plan.changes.map((ch) => ({ ...ch, configBody: plan.configuration.resources[ch.address] }));
  await withLock(cwd, () => applyChanges(ui, control, state, changes, prior, plan.configuration.outputs, 'apply'));
}

/** As the real engine with TF_INPUT=0: a variable without a default and without TF_VAR_<name> is an error. */
function reportMissingVariables(ui, config) {
  const missing = missingVariables(config);
  if (missing.length === 0) return false;
  ui.diagnostic('error', `No value for required variable`, `The root module input variable "${missing[0]}" is not set, and has no default value.`);
  process.exitCode = 1;
  return true;
}

async function runWithoutPlanFile(ui, control, state, flags, operation) {
  const cwd = process.cwd();
  const config = readConfiguration(cwd);
  if (reportMissingVariables(ui, config)) return;
  const prior = readState(cwd);
  await withLock(cwd, async () => {
    const changes = computeChanges(config, prior, { destroy: operation === 'destroy', targets: flags.all('target'), drift: control.drift }).map((ch) => ({
      ...ch,
      configBody: config.resources.get(ch.address),
    }));
    if (!(await streamPlan(ui, control, state, changes))) return interruptedExit(ui);
    const c = counts(changes);
    ui.emit('info', `Plan: ${c.add} to add, ${c.change} to change, ${c.remove} to destroy.`, 'change_summary', { changes: { ...c, import: 0, operation: 'plan' } });
    await applyChanges(ui, control, state, changes, prior, Object.fromEntries(config.outputs), operation);
  });
}

async function cmdDestroy(ui, control, state, flags) {
  if (!flags.has('json')) throw new UsageError('this stand-in only speaks -json');
  if (!flags.has('auto-approve')) throw new UsageError('destroy needs -auto-approve when input is disabled');
  ui.version();
  await floodHugeLine(control);
  if (!requireInit(ui)) return;
  await runWithoutPlanFile(ui, control, state, flags, 'destroy');
}

function cmdOutput(flags) {
  if (!flags.has('json')) throw new UsageError('this stand-in only speaks -json');
  const state = readState(process.cwd());
  process.stdout.write(`${JSON.stringify(state?.outputs ?? {}, null, 2)}\n`);
}
