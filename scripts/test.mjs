// Runs every test/**/*.test.ts with node's test runner (Node 20 has no glob for --test).
// Extra arguments narrow the run: `node scripts/test.mjs test/gateway`.
// Tests import src/ through tsx, but spawn the CLI from dist/ (test/support/cli.ts), so dist/ must be current.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
const DIST = join(ROOT, 'dist');

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const entry of readdirSync(path).sort()) collect(join(path, entry), out);
  } else if (path.endsWith('.test.ts')) {
    out.push(path);
  }
  return out;
}

/** The first src/ file whose dist/ output is missing or older than it, or undefined when dist/ is current. */
function staleSource(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const stale = staleSource(path);
      if (stale) return stale;
    } else if (entry.name.endsWith('.ts')) {
      const built = statSync(join(DIST, relative(SRC, path)).replace(/\.ts$/, '.js'), { throwIfNoEntry: false });
      if (!built || built.mtimeMs < statSync(path).mtimeMs) return path;
    }
  }
  return undefined;
}

const stale = staleSource(SRC);
if (stale) {
  console.error(`dist/ is missing or older than ${relative(ROOT, stale)}; the tests run the built CLI. Run \`npm run build\` first (\`npm test\` builds for you).`);
  process.exit(1);
}

const roots = process.argv.slice(2);
const files = (roots.length > 0 ? roots : ['test']).flatMap((root) => collect(root, []));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=120000', ...files],
  { stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
process.exit(result.status ?? 1);
