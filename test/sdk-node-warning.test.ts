/**
 * The AWS SDK warns, on stderr, that its next majors need Node 22. On the supported Node 20 that is noise in the
 * console a member reads and in the operator's log: building an S3 client must not print it.
 */
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const BUILD_A_CLIENT = `
  import { createS3Client } from './src/storage/s3-client.ts';
  const client = createS3Client({ secrets: { access_key_id: 'AKIDEXAMPLE', secret_access_key: 'example-secret' }, endpoint: 'http://127.0.0.1:9' });
  client.destroy();
  console.log('built');
`;

describe('the AWS SDK’s Node version warning', () => {
  it('is not printed when an S3 client is built', async () => {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
    const result = await execa('node', ['--import', 'tsx', '--input-type=module', '-e', BUILD_A_CLIENT], { env, extendEnv: false, reject: false });
    expect(result.stdout).toContain('built');
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning|will require node/);
  });

  it('stays printed when the operator asks for it (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false)', async () => {
    const major = Number(process.versions.node.split('.')[0]);
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' };
    const result = await execa('node', ['--import', 'tsx', '--input-type=module', '-e', BUILD_A_CLIENT], { env, extendEnv: false, reject: false });
    expect(result.stdout).toContain('built');
    if (major < 22) expect(result.stderr).toMatch(/NodeVersionSupportWarning/);
  });
});
