/**
 * `npm run build` (and, when the sources changed, `npm start` / `npm run console` through their pre-scripts, and
 * `npm ci` / `npm install` through `prepare`): bundles the bot into dist/main.js with esbuild, so it starts on plain
 * node without a TypeScript loader.
 *
 * One file, every dependency inside except native addons: node then reads one script instead of resolving and
 * loading a thousand files from node_modules (start-up to the gateway IDENTIFY: docs/performance.md). Files the
 * bot reads at run time (the migrations in drizzle/) stay where they are; the bot finds them from the project's
 * folder, which holds package.json. `--if-stale` builds only when a source is newer than the bundle.
 * Plain JavaScript, so it runs before anything is compiled.
 */
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT_DIR = join(ROOT, 'dist');
const ENTRY = join(ROOT, 'src/main.ts');
const BUNDLE = join(OUT_DIR, 'main.js');
/** What the bundle is made of: a change to any of these (a file added or removed changes its folder's mtime) rebuilds. */
const INPUTS = ['src', 'commands', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build.mjs'];
/**
 * Left as imports: native addons (loaded from node_modules with their .node binary), and discord.js's optional
 * speed-ups, which it tries to load and does without when they are absent.
 */
const EXTERNAL = ['better-sqlite3', '@resvg/resvg-js', 'zlib-sync', 'bufferutil', 'utf-8-validate'];
/** CommonJS code inside an ES module bundle calls require() for node's built-ins: give it a real one. */
const BANNER = "import { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);";

function newestChange(path) {
  const stat = statSync(path, { throwIfNoEntry: false });
  if (!stat) return 0;
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestChange(join(path, entry)));
  return newest;
}

function isStale() {
  const built = statSync(BUNDLE, { throwIfNoEntry: false });
  if (!built) return true;
  return INPUTS.some((input) => newestChange(join(ROOT, input)) > built.mtimeMs);
}

async function build() {
  const started = Date.now();
  const { build: esbuild } = await import('esbuild');
  const result = await esbuild({
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    outfile: BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.12',
    external: EXTERNAL,
    banner: { js: BANNER },
    // Stack traces name dist/main.js; `node --enable-source-maps dist/main.js` maps them back to the sources.
    sourcemap: 'external',
    write: false,
    logLevel: 'warning',
  });
  mkdirSync(OUT_DIR, { recursive: true });
  // Written beside and renamed over: a bot starting meanwhile reads the old bundle or the new one, never half of one.
  for (const file of result.outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
  const size = (statSync(BUNDLE).size / 2 ** 20).toFixed(1);
  process.stderr.write(`built ${relative(ROOT, BUNDLE)} (${size} MiB) in ${Date.now() - started} ms\n`);
}

const onlyIfStale = process.argv.includes('--if-stale');
if (!onlyIfStale || isStale()) {
  try {
    await build();
  } catch (error) {
    // esbuild has printed the errors with their file and line.
    process.stderr.write(`The bot could not be built: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n`);
    process.exit(1);
  }
}
