/**
 * Reading a module with HashiCorp's HCL parser: every shape of variable, one canonical spelling of types whatever
 * the layout, parse errors with their file and line, the blocks that could reach the bot's host, and the limits on
 * a module's files.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync, readFileSync, existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ForbiddenModule, InvalidVariable, ModuleBackendRefused, ModuleRefused, ModuleUnreadable } from '../src/templates/errors.js';
import { digestOf, MODULE_LIMITS, readModuleFolder, readWrittenModule, writeModuleFiles, type ModuleFile } from '../src/templates/module-files.js';
import { inspectModule } from '../src/templates/module-reader.js';
import { makeTempDir } from './support/tmp.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function moduleDir(files: Record<string, string>): string {
  const { dir, cleanup } = makeTempDir('chatops-module-');
  cleanups.push(cleanup);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

const files = (contents: Record<string, string>): ModuleFile[] => Object.entries(contents).map(([path, text]) => ({ path, bytes: Buffer.from(text) }));

async function refusal(work: Promise<unknown>): Promise<Error> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof Error)) throw new Error('expected a refusal, got success');
  return error;
}

const strict = { allowHostAccess: false };

describe('the variables of a module', () => {
  it('reads every shape of variable from .tf and .tf.json files, with types spelled one way whatever the layout', async () => {
    const dir = moduleDir({
      'variables.tf': `
variable "name" {
  type        = string
  description = "  What to call it  "
}
variable "count_of" {
  type    = number
  default = 2
}
variable "enabled" {
  type    = bool
  default = false
}
variable "untyped" {}
variable "tags" {
  type    = map(string)
  default = { team = "infra" }
}
variable "zones" {
  type = set(string)
}
variable "settings" {
  type = object({
    size   = number                     # in GB
    label  = optional(string, "a  b")   /* two spaces kept */
    "odd key" = optional(list(number))
  })
  default = null
}
variable "pair" {
  type = tuple([string, number])
}
variable "password" {
  type      = string
  sensitive = true
  nullable  = false
}
`,
      'more.tf.json': JSON.stringify({ variable: { from_json: { type: 'list(map(string))', default: [{ a: 'b' }], sensitive: true } } }),
      'main.tf': 'resource "terraform_data" "x" {}\n',
    });
    const { variables } = await inspectModule(readModuleFolder(dir), strict);
    const byName = Object.fromEntries(variables.map((variable) => [variable.name, variable]));
    expect(variables.map((variable) => variable.name)).toEqual(['count_of', 'enabled', 'from_json', 'name', 'pair', 'password', 'settings', 'tags', 'untyped', 'zones']);
    expect(byName.name).toEqual({ name: 'name', type: 'string', description: 'What to call it', hasDefault: false, sensitive: false, nullable: true });
    expect(byName.count_of).toMatchObject({ type: 'number', hasDefault: true, defaultValue: 2 });
    expect(byName.enabled).toMatchObject({ type: 'bool', hasDefault: true, defaultValue: false });
    expect(byName.untyped).toMatchObject({ type: 'any', hasDefault: false });
    expect(byName.tags).toMatchObject({ type: 'map(string)', defaultValue: { team: 'infra' } });
    expect(byName.zones?.type).toBe('set(string)');
    expect(byName.settings).toMatchObject({ type: 'object({size = number, label = optional(string, "a  b"), "odd key" = optional(list(number))})', hasDefault: true, defaultValue: null });
    expect(byName.pair?.type).toBe('tuple([string, number])');
    expect(byName.password).toMatchObject({ type: 'string', sensitive: true, nullable: false, hasDefault: false });
    expect(byName.from_json).toMatchObject({ type: 'list(map(string))', sensitive: true, defaultValue: [{ a: 'b' }] });
  });

  it('reads only the top folder as inputs: a nested module’s variables are not the template’s', async () => {
    const dir = moduleDir({
      'main.tf': 'variable "top" {}\nmodule "child" {\n  source = "./child"\n}\n',
      'child/main.tf': 'variable "inner" {}\n',
    });
    const { variables } = await inspectModule(readModuleFolder(dir), strict);
    expect(variables.map((variable) => variable.name)).toEqual(['top']);
  });

  it('refuses what Terraform would refuse in a variable block, naming the file and the variable', async () => {
    const cases: Array<[string, string]> = [
      ['variable "a" {\n  type = "string"\n}\n', 'quoted type'],
      ['variable "a" {\n  default = upper("x")\n}\n', 'default that is an expression'],
      ['variable "a" {\n  sensitive = "yes"\n}\n', 'sensitive set to something other than true or false'],
      ['variable "a" {\n  type = strin\n}\n', 'which is not a type'],
      ['variable "a" {\n  type = optional(string)\n}\n', 'optional(...) outside an object attribute'],
      ['variable "count" {}\n', 'name Terraform does not accept'],
    ];
    for (const [source, problem] of cases) {
      const error = await refusal(inspectModule(files({ 'inputs.tf': source }), strict));
      expect(error, source).toBeInstanceOf(InvalidVariable);
      expect(error.message, source).toContain('inputs.tf');
      expect(error.message, source).toContain(problem);
    }
    const twice = await refusal(inspectModule(files({ 'a.tf': 'variable "x" {}\n', 'b.tf': 'variable "x" {}\n' }), strict));
    expect(twice.message).toContain('declared more than once');
  });

  it('refuses a file the parser cannot read with the file name and the line', async () => {
    const hcl = await refusal(inspectModule(files({ 'main.tf': 'variable "ok" {}\n', 'broken.tf': 'variable "x" {\n  type = string\n\n  default =\n}\n' }), strict));
    expect(hcl).toBeInstanceOf(ModuleUnreadable);
    expect(hcl).toMatchObject({ file: 'broken.tf', line: 4 });
    expect(hcl.message).toContain('broken.tf line 4');
    expect(hcl.message).toContain('Invalid expression');

    const unclosed = await refusal(inspectModule(files({ 'main.tf': 'variable "x" {\n  type = string\n' }), strict));
    expect(unclosed).toMatchObject({ file: 'main.tf', line: 1 });
    expect(unclosed.message).toContain('Unclosed configuration block');

    const json = await refusal(inspectModule(files({ 'main.tf.json': '{\n  "variable": {\n    "x": \n  }\n}\n' }), strict));
    expect(json).toMatchObject({ file: 'main.tf.json', line: 4 });
    expect(json.message).toContain('main.tf.json line 4');

    const nested = await refusal(inspectModule(files({ 'main.tf': '', 'child/main.tf': 'resource "x" {\n' }), strict));
    expect(nested).toMatchObject({ file: 'child/main.tf', line: 1 });

    const binary = await refusal(inspectModule([{ path: 'main.tf', bytes: Buffer.from([0xff, 0xfe, 0x00]) }], strict));
    expect(binary.message).toContain('not UTF-8');
  });

  it('refuses a folder with no configuration at its top', async () => {
    const error = await refusal(inspectModule(files({ 'README.md': '# nothing', 'child/main.tf': '' }), strict));
    expect(error).toBeInstanceOf(ModuleRefused);
    expect(error.message).toContain('no .tf or .tf.json file');
  });
});

describe('content that could reach the bot’s host', () => {
  const forbidden: Array<[string, Record<string, string>, string]> = [
    ['a local-exec provisioner', { 'main.tf': 'resource "terraform_data" "x" {\n  provisioner "local-exec" {\n    command = "cat /proc/1/environ"\n  }\n}\n' }, 'resource "terraform_data" "x" has a provisioner (local-exec)'],
    ['a remote-exec provisioner in JSON', { 'main.tf.json': JSON.stringify({ resource: { null_resource: { y: { provisioner: [{ 'remote-exec': { inline: ['id'] } }] } } } }) }, 'resource "null_resource" "y" has a provisioner (remote-exec)'],
    ['the external data source', { 'main.tf': 'data "external" "e" {\n  program = ["sh", "-c", "id"]\n}\n' }, 'data "external" "e" uses the external provider'],
    ['a local_file resource', { 'main.tf': 'resource "local_file" "f" {\n  filename = "/etc/x"\n  content  = "x"\n}\n' }, 'resource "local_file" "f" uses the local provider'],
    ['a local_file data source', { 'main.tf': 'data "local_file" "db" {\n  filename = "../../chatops.db"\n}\n' }, 'data "local_file" "db" uses the local provider'],
    ['a provider "local" block', { 'main.tf': 'provider "local" {}\n' }, 'provider "local" is configured'],
    ['external in required_providers under another name', { 'versions.tf': 'terraform {\n  required_providers {\n    runner = {\n      source = "registry.terraform.io/hashicorp/external"\n    }\n  }\n}\n' }, 'the external provider is required (as "runner")'],
    ['a module from the registry', { 'main.tf': 'module "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}\n' }, 'module "vpc" has its source outside the template (terraform-aws-modules/vpc/aws)'],
    ['a module that climbs out of the template', { 'main.tf': 'module "up" {\n  source = "../../elsewhere"\n}\n' }, 'module "up" has its source outside the template'],
    ['a provisioner in a nested module', { 'main.tf': 'module "c" {\n  source = "./child"\n}\n', 'child/main.tf': 'resource "terraform_data" "z" {\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\n' }, 'resource "terraform_data" "z" has a provisioner'],
  ];

  for (const [what, contents, finding] of forbidden) {
    it(`refuses ${what}, naming the file and the block`, async () => {
      const error = await refusal(inspectModule(files(contents), strict));
      expect(error).toBeInstanceOf(ForbiddenModule);
      expect(error.message).toContain(finding);
      expect((error as ForbiddenModule).operatorNote).toContain('TEMPLATE_ALLOW_HOST_ACCESS');
    });
  }

  it('accepts them when the operator allows host access, and a module calling its own folders always', async () => {
    for (const [, contents] of forbidden) await expect(inspectModule(files(contents), { allowHostAccess: true })).resolves.toBeDefined();
    const local = files({ 'main.tf': 'module "c" {\n  source = "./child"\n}\n', 'child/main.tf': 'module "d" {\n  source = "../shared"\n}\n', 'shared/main.tf': 'resource "terraform_data" "ok" {}\n' });
    await expect(inspectModule(local, strict)).resolves.toBeDefined();
  });
});

describe('a state backend of the module’s own', () => {
  const own: Array<[string, Record<string, string>, string]> = [
    ['a backend block in .tf', { 'main.tf': 'resource "terraform_data" "x" {}\n', 'backend.tf': 'terraform {\n  backend "s3" {\n    bucket = "their-state"\n    key    = "x"\n  }\n}\n' }, 'backend.tf has a backend "s3" block'],
    ['an empty backend block in .tf', { 'main.tf': 'terraform {\n  required_version = ">= 1.5"\n  backend "local" {}\n}\n' }, 'main.tf has a backend "local" block'],
    ['a cloud block in .tf', { 'main.tf': 'terraform {\n  cloud {\n    organization = "acme"\n    workspaces {\n      name = "web"\n    }\n  }\n}\n' }, 'main.tf has a cloud block'],
    ['a backend in .tf.json', { 'main.tf.json': JSON.stringify({ terraform: { backend: { gcs: { bucket: 'their-state' } } }, resource: { terraform_data: { x: {} } } }) }, 'main.tf.json has a backend "gcs" block'],
    ['a backend in .tf.json written as arrays', { 'state.tf.json': JSON.stringify({ terraform: [{ backend: [{ azurerm: [{}] }] }] }), 'main.tf': 'variable "x" {}\n' }, 'state.tf.json has a backend "azurerm" block'],
    ['a cloud block in .tf.json', { 'main.tf.json': JSON.stringify({ terraform: { cloud: {} } }) }, 'main.tf.json has a cloud block'],
  ];

  for (const [what, contents, finding] of own) {
    it(`refuses ${what}, naming the file, whatever the operator allows`, async () => {
      for (const options of [strict, { allowHostAccess: true }]) {
        const error = await refusal(inspectModule(files(contents), options));
        expect(error).toBeInstanceOf(ModuleBackendRefused);
        expect(error.message).toContain(finding);
        expect(error.message).toContain('The bot chooses the state backend per project');
      }
    });
  }

  it('accepts a terraform block without one, and a child module’s (Terraform reads a backend from the root only)', async () => {
    const settings = files({ 'versions.tf': 'terraform {\n  required_version = ">= 1.5"\n  required_providers {\n    google = {\n      source = "hashicorp/google"\n    }\n  }\n}\n' });
    await expect(inspectModule(settings, strict)).resolves.toBeDefined();
    const child = files({ 'main.tf': 'module "c" {\n  source = "./child"\n}\n', 'child/main.tf': 'terraform {\n  backend "s3" {}\n}\n' });
    await expect(inspectModule(child, strict)).resolves.toBeDefined();
  });
});

describe('the files of a module', () => {
  it('refuses a symbolic link, never following it', () => {
    const dir = moduleDir({ 'main.tf': '' });
    symlinkSync('/etc/passwd', join(dir, 'passwd.tf'));
    expect(() => readModuleFolder(dir)).toThrow(ModuleRefused);
    expect(() => readModuleFolder(dir)).toThrow(/passwd\.tf.*symbolic link/);
  });

  it('refuses too many files, too many bytes and too deep a nesting', () => {
    const many = Object.fromEntries(Array.from({ length: MODULE_LIMITS.files + 1 }, (_, index) => [`f${index}.txt`, 'x']));
    expect(() => readModuleFolder(moduleDir(many))).toThrow(/more than 200 files/);
    const big = moduleDir({ 'main.tf': '', 'big.bin': 'x'.repeat(MODULE_LIMITS.totalBytes + 1) });
    expect(() => readModuleFolder(big)).toThrow(/more than 4 MiB/);
    const deep = moduleDir({ [`${Array.from({ length: MODULE_LIMITS.depth + 1 }, (_, index) => `d${index}`).join('/')}/main.tf`]: '' });
    expect(() => readModuleFolder(deep)).toThrow(/nested more than 8 folders deep/);
  });

  it('refuses provider plugin folders and variable files the engine would load by itself', () => {
    expect(() => readModuleFolder(moduleDir({ 'main.tf': '', '.terraform/providers/x': 'binary' }))).toThrow(/\.terraform.*provider plugins/);
    expect(() => readModuleFolder(moduleDir({ 'main.tf': '', 'terraform.d/plugins/x': 'binary' }))).toThrow(/terraform\.d/);
    expect(() => readModuleFolder(moduleDir({ 'main.tf': '', 'prod.auto.tfvars': 'a = 1' }))).toThrow(/variable file/);
    expect(() => readModuleFolder(moduleDir({ 'main.tf': '', 'terraform.tfvars': 'a = 1' }))).toThrow(/variable file/);
    // OpenTofu would load these instead of the .tf files the bot checked, at any depth.
    expect(() => readModuleFolder(moduleDir({ 'main.tf': '', 'main.tofu': 'data "external" "e" {}' }))).toThrow(/main\.tofu is an OpenTofu-only configuration file/);
    expect(() => readModuleFolder(moduleDir({ 'main.tf': '', 'child/x.tofu.json': '{}' }))).toThrow(/child\/x\.tofu\.json is an OpenTofu-only/);
    // Deeper down, a tfvars file is only a file: the engine loads those of the working folder alone.
    expect(readModuleFolder(moduleDir({ 'main.tf': '', 'examples/terraform.tfvars': 'a = 1' })).map((file) => file.path)).toEqual(['examples/terraform.tfvars', 'main.tf']);
  });

  it('digests paths and bytes: equal exactly when the files are', () => {
    const a = files({ 'main.tf': 'x', 'b/c.tf': 'y' });
    expect(digestOf(a)).toBe(digestOf([...a].reverse()));
    expect(digestOf(a)).not.toBe(digestOf(files({ 'main.tf': 'x', 'b/c.tf': 'z' })));
    expect(digestOf(a)).not.toBe(digestOf(files({ 'main.tf': 'x', 'b/d.tf': 'y' })));
    expect(digestOf(a)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('writes owner-only files into a workspace and removes what an earlier version had and this one has not', () => {
    const { dir, cleanup } = makeTempDir('chatops-workspace-');
    cleanups.push(cleanup);
    writeFileSync(join(dir, 'backend_override.tf'), 'kept: the pipeline’s own file');
    writeModuleFiles(files({ 'main.tf': 'v1', 'old.tf': 'gone next time', 'sub/x.tf': 'x' }), dir);
    expect(statSync(join(dir, 'sub', 'x.tf')).mode & 0o777).toBe(0o600);
    writeModuleFiles(files({ 'main.tf': 'v2', 'sub/x.tf': 'x' }), dir);
    expect(readFileSync(join(dir, 'main.tf'), 'utf8')).toBe('v2');
    expect(existsSync(join(dir, 'old.tf'))).toBe(false);
    expect(existsSync(join(dir, 'backend_override.tf'))).toBe(true);
  });

  it('reads back from a deployment’s folder every configuration file the engine would load, and none of the bot’s or the engine’s own', () => {
    const dir = moduleDir({
      'main.tf': 'variable "x" {}\n',
      'child/main.tf.json': '{}',
      'extra.tf.json': '{}',
      'backend.tf.json': '{"terraform": {"backend": {"local": {}}}}',
      'cloud-chatops.auto.tfvars.json': '{}',
      'terraform.tfstate': '{}',
      '.terraform/modules/m/main.tf': 'resource "x" "y" {}\n',
      '.plans/1.tfplan': 'plan',
      'README.md': 'docs',
    });
    expect(readWrittenModule(dir, ['backend.tf.json']).map((file) => file.path)).toEqual(['child/main.tf.json', 'extra.tf.json', 'main.tf']);
    writeFileSync(join(dir, 'planted.tofu'), 'data "external" "e" {}');
    expect(() => readWrittenModule(dir, ['backend.tf.json'])).toThrow(/planted\.tofu is an OpenTofu-only/);
    rmSync(join(dir, 'planted.tofu'));
    symlinkSync('/etc', join(dir, 'child', 'etc'));
    expect(() => readWrittenModule(dir, ['backend.tf.json'])).toThrow(/child\/etc is a symbolic link/);
  });

  it('never writes through a link planted in the workspace', () => {
    const { dir, cleanup } = makeTempDir('chatops-workspace-');
    cleanups.push(cleanup);
    const outside = moduleDir({ 'keep.txt': 'untouched' });
    symlinkSync(outside, join(dir, 'sub'));
    expect(() => writeModuleFiles(files({ 'main.tf': '', 'sub/keep.txt': 'overwritten' }), dir)).toThrow(/not a folder/);
    expect(readFileSync(join(outside, 'keep.txt'), 'utf8')).toBe('untouched');
  });
});
