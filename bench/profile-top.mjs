// Summarises a V8 .cpuprofile (from node --cpu-prof): the functions with the most self time.
//
//   node bench/profile-top.mjs <file.cpuprofile> [count]
//
// bench/run.mjs --cpu-prof on uses summarizeProfile() on the Vigil process's profile.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Self time per function (summed over call sites) as a share of the busy samples, biggest first.
 * Idle samples are left out: the process idles while the harness measures the other targets.
 */
export function summarizeProfile(profile, count = 25) {
  const total = profile.nodes.reduce((a, n) => a + (n.callFrame.functionName === '(idle)' ? 0 : (n.hitCount ?? 0)), 0) || 1;
  const byFunction = new Map();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || (url ? '(anonymous)' : `(${node.callFrame.functionName || 'native'})`);
    const where = url ? `${shorten(url)}:${lineNumber + 1}` : '';
    if (name === '(idle)') continue;
    const key = `${name}\0${where}`;
    const entry = byFunction.get(key) ?? { name, where, hits: 0 };
    entry.hits += node.hitCount ?? 0;
    byFunction.set(key, entry);
  }
  return [...byFunction.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, count)
    .map((e) => ({ name: e.name, where: e.where, selfPct: (100 * e.hits) / total }));
}

function shorten(url) {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('node_modules/');
  if (nm !== -1) return path.slice(nm + 'node_modules/'.length);
  return path.startsWith('/') ? relative(process.cwd(), path) : path;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node bench/profile-top.mjs <file.cpuprofile> [count]');
    process.exit(2);
  }
  const rows = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), Number(process.argv[3] ?? 25));
  for (const r of rows) console.log(`${r.selfPct.toFixed(1).padStart(5)}%  ${r.name}  ${r.where}`);
}
