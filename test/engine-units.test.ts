import { describe, expect, it } from 'vitest';
import { buildChildEnv } from '../src/engine/child-env.js';
import { generateConfig, type ProjectForConfig, type ResourceForConfig } from '../src/engine/config-generator.js';
import { MissingCredentialFields, toEngineEnv } from '../src/engine/credential-env.js';
import { UnsupportedResource } from '../src/engine/errors.js';
import { describeFailure } from '../src/engine/failure.js';
import { Redactor } from '../src/shared/redaction.js';
import { EngineEventParser } from '../src/engine/json-stream.js';
import { PlanJsonInvalid, summarisePlan } from '../src/engine/plan-summary.js';
import { RunScheduler } from '../src/engine/scheduler.js';
import { makeTempDir } from './support/tmp.js';

const GUILD = '111111111111111111';

function project(provider: ProjectForConfig['provider'], region = provider === 'gcp' ? 'us-central1' : provider === 'aws' ? 'us-east-1' : 'eastus'): ProjectForConfig {
  return { id: 7, guildId: GUILD, slug: 'web-shop', provider, region };
}

const vm = (id: number, extra: Partial<ResourceForConfig> = {}): ResourceForConfig => ({
  id,
  name: 'web server',
  resourceType: 'vm',
  instanceType: 'e2-micro',
  diskSizeGb: 30,
  ...extra,
});
const bucket = (id: number, extra: Partial<ResourceForConfig> = {}): ResourceForConfig => ({
  id,
  name: 'assets',
  resourceType: 'bucket',
  instanceType: null,
  diskSizeGb: null,
  ...extra,
});

type Doc = Record<string, Record<string, Record<string, Record<string, unknown>>>>;

describe('the streaming -json parser', () => {
  it('turns documented lines into typed events', () => {
    const parser = new EngineEventParser();
    const lines = [
      '{"@level":"info","@message":"Terraform 1.9.8","@module":"terraform.ui","@timestamp":"2026-01-01T00:00:00Z","terraform":"1.9.8","type":"version","ui":"1.2"}',
      '{"@level":"info","@message":"OpenTofu 1.8.5","@module":"tofu.ui","tofu":"1.8.5","type":"version","ui":"1.2"}',
      '{"@level":"info","@message":"x: Plan to create","type":"planned_change","change":{"resource":{"addr":"aws_instance.vm_1","resource_type":"aws_instance","resource_name":"vm_1"},"action":"create"}}',
      '{"@level":"info","@message":"Plan: 1 to add","type":"change_summary","changes":{"add":1,"change":0,"remove":0,"operation":"plan"}}',
      '{"@level":"info","@message":"x: Creating...","type":"apply_start","hook":{"resource":{"addr":"aws_instance.vm_1"},"action":"create"}}',
      '{"@level":"info","@message":"x: done","type":"apply_complete","hook":{"resource":{"addr":"aws_instance.vm_1"},"action":"create","id_key":"id","id_value":"i-123","elapsed_seconds":3}}',
      '{"@level":"error","@message":"Error: boom","type":"diagnostic","diagnostic":{"severity":"error","summary":"boom","detail":"it broke","address":"aws_instance.vm_1"}}',
      '{"@level":"info","@message":"Outputs: 2","type":"outputs","outputs":{"ip":{"sensitive":false,"type":"string","value":"1.2.3.4"},"pw":{"sensitive":true,"type":"string","value":"hunter2"}}}',
      '{"@level":"info","@message":"x: Refreshing state...","type":"refresh_start","hook":{"resource":{"addr":"aws_instance.vm_1"}}}',
    ];
    const events = lines.map((line) => parser.parseLine(line));
    expect(events.map((e) => e?.type)).toEqual([
      'version',
      'version',
      'planned_change',
      'change_summary',
      'apply_start',
      'apply_complete',
      'diagnostic',
      'outputs',
      'refresh_start',
    ]);
    expect(events[1]).toMatchObject({ engine: '1.8.5' });
    expect(events[2]).toMatchObject({ address: 'aws_instance.vm_1', action: 'create' });
    expect(events[3]).toMatchObject({ operation: 'plan', add: 1, change: 0, remove: 0 });
    expect(events[5]).toMatchObject({ idValue: 'i-123', elapsedSeconds: 3 });
    expect(events[6]).toMatchObject({ severity: 'error', summary: 'boom', detail: 'it broke' });
    // A sensitive output's value is never passed on.
    expect(events[7]).toEqual({ type: 'outputs', outputs: { ip: { sensitive: false, value: '1.2.3.4' }, pw: { sensitive: true } } });
    expect(parser.stats).toEqual({ malformed: 0, ignored: 0 });
  });

  it('skips malformed lines and unknown types without throwing, and counts them', () => {
    const parser = new EngineEventParser();
    const junk = [
      'not json at all',
      '{"type":',
      '[1,2,3]',
      'null',
      '"a string"',
      '{"no_type":true}',
      '{"type":"planned_change","change":"not an object"}',
      '{"type":"diagnostic","diagnostic":{"severity":"fatal","summary":"x"}}',
      '',
      '   ',
    ];
    for (const line of junk) expect(parser.parseLine(line)).toBeUndefined();
    expect(parser.parseLine('{"type":"log","@message":"hello"}')).toBeUndefined();
    expect(parser.parseLine('{"type":"test_run","@message":"x"}')).toBeUndefined();
    expect(parser.parseLine('{"type":"resource_drift","change":{}}')).toBeUndefined();
    expect(parser.stats).toEqual({ malformed: 8, ignored: 3 });
  });
});

describe('the plan summary from show -json', () => {
  const plan = {
    format_version: '1.2',
    terraform_version: '1.9.8',
    resource_changes: [
      { address: 'google_compute_instance.vm_1', mode: 'managed', change: { actions: ['create'] } },
      { address: 'google_storage_bucket.bucket_2', mode: 'managed', change: { actions: ['no-op'] } },
      { address: 'google_compute_instance.vm_3', mode: 'managed', change: { actions: ['update'] } },
      { address: 'google_compute_instance.vm_4', mode: 'managed', change: { actions: ['delete', 'create'] } },
      { address: 'google_compute_instance.vm_5', mode: 'managed', change: { actions: ['create', 'delete'] } },
      { address: 'google_compute_instance.vm_6', mode: 'managed', change: { actions: ['delete'] } },
      { address: 'data.aws_ami.debian', mode: 'data', change: { actions: ['read'] } },
    ],
  };

  it('lists what will be created, changed, replaced and destroyed, with counts', () => {
    const summary = summarisePlan(plan);
    expect(summary.create).toEqual(['google_compute_instance.vm_1']);
    expect(summary.update).toEqual(['google_compute_instance.vm_3']);
    expect(summary.replace).toEqual(['google_compute_instance.vm_4', 'google_compute_instance.vm_5']);
    expect(summary.delete).toEqual(['google_compute_instance.vm_6']);
    expect(summary.read).toEqual(['data.aws_ami.debian']);
    expect(summary.unchanged).toBe(1);
    expect(summary.counts).toEqual({ create: 1, update: 1, replace: 2, delete: 1 });
    expect(summary.hasChanges).toBe(true);
    expect(summary.engineVersion).toBe('1.9.8');
  });

  it('says there is nothing to do for an all no-op plan (spelled "no-op" in plan JSON)', () => {
    const summary = summarisePlan({ format_version: '1.2', resource_changes: [{ address: 'a.b', change: { actions: ['no-op'] } }] });
    expect(summary.hasChanges).toBe(false);
    expect(summary.unchanged).toBe(1);
    // The streaming spelling is not a plan-JSON action.
    expect(() => summarisePlan({ format_version: '1.2', resource_changes: [{ address: 'a.b', change: { actions: ['noop'] } }] })).toThrow(PlanJsonInvalid);
  });

  it('rejects something that is not a plan', () => {
    expect(() => summarisePlan({ hello: 'world' })).toThrow(PlanJsonInvalid);
    expect(() => summarisePlan(null)).toThrow(PlanJsonInvalid);
  });
});

describe('the generated Terraform JSON configuration', () => {
  it('describes a GCP vm and bucket with the project id only as a sensitive variable', () => {
    const { document, addressesByResource } = generateConfig(project('gcp'), [vm(3), bucket(4)]);
    const doc = document as unknown as Doc;
    expect(doc.variable?.project_id).toMatchObject({ type: 'string', sensitive: true });
    expect(doc.provider?.google).toMatchObject({ project: '${var.project_id}', region: 'us-central1' });
    const instance = doc.resource?.google_compute_instance?.vm_3 as Record<string, unknown>;
    expect(instance).toMatchObject({ machine_type: 'e2-micro', zone: 'us-central1-a' });
    expect(JSON.stringify(instance.boot_disk)).toContain('"size":30');
    expect(JSON.stringify(instance.boot_disk)).toContain('debian-cloud/debian-12');
    const bucketName = (doc.resource?.google_storage_bucket?.bucket_4 as { name: string }).name;
    expect(bucketName).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
    expect(addressesByResource.get(3)).toEqual(['google_compute_instance.vm_3']);
    expect(addressesByResource.get(4)).toEqual(['google_storage_bucket.bucket_4']);
    expect(Object.keys(doc.output ?? {})).toEqual(expect.arrayContaining(['vm_3_id', 'vm_3_ip', 'bucket_4_name']));
  });

  it('describes an AWS instance with its root volume and a Debian AMI from a data source', () => {
    const { document } = generateConfig(project('aws'), [vm(1, { instanceType: 't3.micro', diskSizeGb: 40 }), bucket(2)]);
    const doc = document as unknown as Doc;
    expect(doc.provider?.aws).toMatchObject({ region: 'us-east-1' });
    expect(doc.resource?.aws_instance?.vm_1).toMatchObject({ ami: '${data.aws_ami.debian.id}', instance_type: 't3.micro' });
    expect(JSON.stringify(doc.resource?.aws_instance?.vm_1)).toContain('"volume_size":40');
    // Debian's own account: an AMI filter without an owner would match anyone's image of that name.
    expect(doc.data?.aws_ami?.debian).toMatchObject({ most_recent: true, owners: ['136693071363'] });
    expect((doc.resource?.aws_s3_bucket?.bucket_2 as { bucket: string }).bucket).toMatch(/^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
  });

  it('describes an Azure VM with what it needs, and a storage account with a container', () => {
    const { document, addressesByResource } = generateConfig(project('azure'), [vm(5, { instanceType: 'Standard_B1s' }), bucket(6)]);
    const doc = document as unknown as Doc;
    expect(doc.provider?.azurerm).toEqual({ features: [{}] }); // azurerm refuses to start without a features block
    expect(doc.resource?.azurerm_resource_group?.project).toMatchObject({ location: 'eastus' });
    expect(doc.resource?.azurerm_linux_virtual_machine?.vm_5).toMatchObject({ size: 'Standard_B1s', disable_password_authentication: true });
    expect(addressesByResource.get(5)).toEqual([
      'tls_private_key.vm_5',
      'azurerm_public_ip.vm_5',
      'azurerm_network_interface.vm_5',
      'azurerm_linux_virtual_machine.vm_5',
    ]);
    expect(addressesByResource.get(6)).toEqual(['azurerm_storage_account.bucket_6', 'azurerm_storage_container.bucket_6']);
    const account = (doc.resource?.azurerm_storage_account?.bucket_6 as { name: string }).name;
    expect(account).toMatch(/^[a-z0-9]{3,24}$/);
    // No password anywhere in the configuration.
    expect(JSON.stringify(document)).not.toMatch(/admin_password/);
  });

  it('never lets a resource name become a template expression', () => {
    const hostile = vm(9, { name: '${file("/etc/passwd")} %{ for x in y }' });
    const text = JSON.stringify(generateConfig(project('aws'), [hostile]).document);
    expect(text).not.toContain('file(');
    expect(text).not.toContain('%{');
    // Our own interpolations are the only ones: references to resources, data sources and var.project_id.
    const interpolations = text.match(/\$\{[^}]*\}/g) ?? [];
    for (const expression of interpolations) expect(expression).toMatch(/^\$\{(aws_instance|data\.aws_ami)\.[a-z0-9_]+(\.[a-z_]+)*\}$/);
  });

  it('refuses an instance type, region or disk size outside the safe alphabet or range', () => {
    expect(() => generateConfig(project('gcp'), [vm(1, { instanceType: 'e2-micro"}' })])).toThrow(UnsupportedResource);
    expect(() => generateConfig(project('gcp'), [vm(1, { instanceType: '${var.x}' })])).toThrow(UnsupportedResource);
    expect(() => generateConfig(project('gcp', 'us-central1"${x}'), [vm(1)])).toThrow(UnsupportedResource);
    expect(() => generateConfig(project('gcp'), [vm(1, { diskSizeGb: 5 })])).toThrow(UnsupportedResource);
    expect(() => generateConfig(project('gcp'), [vm(1, { instanceType: null })])).toThrow(UnsupportedResource);
  });

  it('gives two guilds with the same project and ids different bucket names', () => {
    const a = generateConfig({ ...project('gcp'), guildId: '111111111111111111' }, [bucket(1)]).document as unknown as Doc;
    const b = generateConfig({ ...project('gcp'), guildId: '333333333333333333' }, [bucket(1)]).document as unknown as Doc;
    expect((a.resource?.google_storage_bucket?.bucket_1 as { name: string }).name).not.toBe(
      (b.resource?.google_storage_bucket?.bucket_1 as { name: string }).name,
    );
  });
});

describe('credentials as engine environment variables', () => {
  it('maps each provider to the variables its Terraform provider reads', () => {
    expect(toEngineEnv('gcp', { project_id: 'p-1', credentials_json: '{"type":"service_account"}' })).toEqual({
      TF_VAR_project_id: 'p-1',
      GOOGLE_CREDENTIALS: '{"type":"service_account"}',
    });
    expect(toEngineEnv('gcp', { project_id: 'p-1' })).toEqual({ TF_VAR_project_id: 'p-1' });
    expect(toEngineEnv('aws', { access_key_id: 'AKIA1', secret_access_key: 's3cr3t', session_token: 'tok' })).toEqual({
      AWS_ACCESS_KEY_ID: 'AKIA1',
      AWS_SECRET_ACCESS_KEY: 's3cr3t',
      AWS_SESSION_TOKEN: 'tok',
    });
    expect(toEngineEnv('azure', { subscription_id: 's', tenant_id: 't', client_id: 'c', client_secret: 'x' })).toEqual({
      ARM_SUBSCRIPTION_ID: 's',
      ARM_TENANT_ID: 't',
      ARM_CLIENT_ID: 'c',
      ARM_CLIENT_SECRET: 'x',
    });
  });

  it('names the missing fields without echoing any value', () => {
    let error: unknown;
    try {
      toEngineEnv('aws', { access_key_id: 'AKIA-VISIBLE-1234' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MissingCredentialFields);
    expect((error as Error).message).toContain('secret_access_key');
    expect((error as Error).message).not.toContain('AKIA-VISIBLE-1234');
  });
});

describe('the child environment', () => {
  it('is built from nothing and refuses variables that could change what the engine runs', () => {
    const { dir, cleanup } = makeTempDir();
    try {
      const env = buildChildEnv({ pathEnv: '/bin', home: `${dir}/home`, pluginCacheDir: `${dir}/cache`, credentialEnv: { TF_VAR_project_id: 'p' } });
      expect(Object.keys(env).sort()).toEqual(['CHECKPOINT_DISABLE', 'HOME', 'PATH', 'TF_INPUT', 'TF_IN_AUTOMATION', 'TF_PLUGIN_CACHE_DIR', 'TF_VAR_project_id']);
      for (const name of ['PATH', 'HOME', 'TF_CLI_ARGS', 'NODE_OPTIONS', 'LD_PRELOAD', 'DISCORD_TOKEN', 'tf_var_x']) {
        expect(() => buildChildEnv({ pathEnv: '/bin', home: `${dir}/home`, pluginCacheDir: `${dir}/cache`, credentialEnv: { [name]: 'x' } })).toThrow(TypeError);
      }
    } finally {
      cleanup();
    }
  });
});

describe('the run scheduler', () => {
  it('serves queued runs round-robin across guilds and reports each run its position among its own guild\'s runs only', async () => {
    const scheduler = new RunScheduler(1);
    const order: string[] = [];
    const positions: Record<string, number[]> = {};
    const first = await scheduler.acquireSlot('A');
    const wait = (guild: string, label: string) =>
      scheduler.acquireSlot(guild, { onPosition: (p) => (positions[label] ??= []).push(p) }).then((release) => {
        order.push(label);
        return release;
      });
    const a2 = wait('A', 'A2');
    const a3 = wait('A', 'A3');
    const a4 = wait('A', 'A4');
    const b1 = wait('B', 'B1');
    const c1 = wait('C', 'C1');
    expect(scheduler.queued).toBe(5);
    // A2, B1, C1 come before A's later runs; yet B and C, first of their guilds, are not told how many of A's wait.
    expect(positions).toEqual({ A2: [1], A3: [2], A4: [3], B1: [1], C1: [1] });
    first();
    (await a2)();
    (await b1)();
    (await c1)();
    (await a3)();
    (await a4)();
    expect(positions).toEqual({ A2: [1], A3: [2, 1], A4: [3, 2, 1], B1: [1], C1: [1] });
    expect(order).toEqual(['A2', 'B1', 'C1', 'A3', 'A4']);
    expect(scheduler.running).toBe(0);
  });

  it('takes a run out of the queue when its signal aborts', async () => {
    const scheduler = new RunScheduler(1);
    const release = await scheduler.acquireSlot('A');
    const controller = new AbortController();
    const waiting = scheduler.acquireSlot('A', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toThrow(/cancelled/);
    expect(scheduler.queued).toBe(0);
    release();
  });
});

describe('readable failures', () => {
  const redact = new Redactor(['top-secret-id', '{"private_key":"-----BEGIN KEY-----abc","client_email":"bot@example.iam"}']);

  it('uses the first error diagnostic, counts the others, and blanks secrets', () => {
    const failure = describeFailure(
      [
        { type: 'diagnostic', severity: 'warning', summary: 'just a warning', detail: '' },
        { type: 'diagnostic', severity: 'error', summary: 'Invalid project', detail: 'project top-secret-id not found', address: 'google_compute_instance.vm_1' },
        { type: 'diagnostic', severity: 'error', summary: 'Second problem', detail: '' },
      ],
      '',
      'fallback',
      redact,
    );
    expect(failure).toEqual({
      summary: 'google_compute_instance.vm_1: Invalid project',
      detail: 'project [redacted] not found\n(and 1 more error: Second problem)',
    });
  });

  it('falls back to the Error: lines of text output (as init prints), without colour codes or box drawing', () => {
    const stderr = '\u001b[31m╷\n│ Error: Invalid provider configuration\n│\n│ Could not read the key of bot@example.iam\n╵\n';
    expect(describeFailure([], stderr, 'init failed', redact)).toEqual({
      summary: 'Invalid provider configuration',
      detail: 'Could not read the key of [redacted]',
    });
    expect(describeFailure([], 'panic: something internal', 'init failed', redact)).toEqual({ summary: 'init failed', detail: '' });
  });
});
