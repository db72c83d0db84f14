import { spawn } from 'node:child_process';
import { utimesSync } from 'node:fs';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { makeTempDir } from './tmp.js';

export interface TestS3Server {
  /** http://127.0.0.1:<port>, for a path-style S3 client. */
  endpoint: string;
  /** The only key pair s3rver knows; any other access key id gets InvalidAccessKeyId. */
  accessKeyId: 'S3RVER';
  /** s3rver does not verify SigV4 signatures, so a wrong secret is NOT detected there; only the key id is. */
  secretAccessKey: 'S3RVER';
  /**
   * Sets an object's LastModified. S3 has no such call; s3rver reports the stored file's mtime, so the test
   * changes that instead of sleeping between uploads.
   */
  setLastModified(bucket: string, key: string, at: Date): void;
  stop(): Promise<void>;
}

/**
 * Runs inside the child. s3rver signs ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only offers
 * through its legacy provider; that flag can only be given to a fresh process, hence the child.
 * Exits when the parent closes stdin, so a crashed test run leaves no server behind.
 */
const CHILD_SCRIPT = `
const S3rver = require(process.env.S3RVER_MODULE);
const options = JSON.parse(process.env.S3RVER_OPTIONS);
const server = new S3rver(options);
server.run().then((address) => {
  process.stdout.write(JSON.stringify({ port: address.port }) + '\\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

const readySchema = z.object({ port: z.number().int().positive() });

/**
 * A real S3-compatible server (s3rver, in a child process) on a loopback port chosen by the OS, storing into a
 * fresh temporary folder. `buckets` exist before the first request.
 */
export async function startS3Server(options: { buckets?: string[] } = {}): Promise<TestS3Server> {
  const { dir, cleanup } = makeTempDir('chatops-s3-');
  const s3rverModule = createRequire(import.meta.url).resolve('s3rver');
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD_SCRIPT], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: {
      ...process.env,
      S3RVER_MODULE: s3rverModule,
      S3RVER_OPTIONS: JSON.stringify({
        address: '127.0.0.1',
        port: 0,
        silent: true,
        directory: dir,
        configureBuckets: (options.buckets ?? []).map((name) => ({ name, configs: [] })),
      }),
    },
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  let port: number;
  try {
    const firstLine = await Promise.race([
      once(lines, 'line').then(([line]) => String(line)),
      exited.then(([code]) => {
        throw new Error(`s3rver exited before listening (code ${String(code)})`);
      }),
    ]);
    port = readySchema.parse(JSON.parse(firstLine)).port;
  } catch (error) {
    child.kill();
    cleanup();
    throw error;
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    setLastModified: (bucket, key, at) => {
      const parts = key.split('/');
      const last = parts.pop() ?? '';
      utimesSync(join(dir, bucket, ...parts, `${last}._S3rver_object`), at, at);
    },
    stop: async () => {
      child.stdin.end();
      await exited;
      cleanup();
    },
  };
}
