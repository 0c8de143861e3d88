// Scans the exports of every object in <objtree>/commands.json and compares them with a
// Module.symvers; with a depends file (lines "module<TAB>dep,dep" from modinfo), compares each
// module's predicted dependencies too.
// Usage: node tools/symbols-vs-symvers.js <srctree> <objtree> <Module.symvers> [<depends>]
'use strict';
const fs = require('fs');
const path = require('path');
const root = path.join(__dirname, '..');
const S = require(path.join(root, 'packages/symbols/dist/index.js'));
const C = require(path.join(root, 'packages/kconfig/dist/index.js'));
const [src, obj, symvers, dependsFile] = process.argv.slice(2);

const commands = JSON.parse(fs.readFileSync(path.join(obj, 'commands.json'), 'utf8'));
const config = C.readConfigFile(path.join(obj, 'include/config/auto.conf'), 'auto.conf').values;
const objects = S.objectsFromKbuild(commands);
async function main() {
  const t0 = Date.now();
  const scan = await S.scanTreeParallel({ srctree: src, objtree: obj, srcarch: "x86", config, objects });
  const seconds = ((Date.now() - t0) / 1000).toFixed(1);

  const found = new Map();
  for (const m of scan.modules.values()) for (const e of m.exports) (found.get(e.symbol) ?? found.set(e.symbol, []).get(e.symbol)).push({ ...e, module: m.name });
  const rows = S.parseSymvers(fs.readFileSync(symvers, 'utf8'));
  const unreadable = new Set(scan.unreadable);
  const misses = new Map();
  const miss = (cause, text) => (misses.get(cause) ?? misses.set(cause, []).get(cause)).push(text);
  let right = 0;
  let uncertain = 0;
  for (const r of rows) {
    const f = found.get(r.symbol);
    const license = r.exportType === 'EXPORT_SYMBOL_GPL' ? 'GPL' : '';
    if (!f) {
      const owner = objects.filter((o) => (o.module ?? 'vmlinux') === r.module && unreadable.has(o.source));
      miss(owner.length ? 'in a generated source (not there before a build)' : 'not found', `${r.symbol} (${r.module})`);
      continue;
    }
    const e = f.find((x) => x.module === r.module) ?? f[0];
    if (e.module !== r.module) miss('wrong module', `${r.symbol}: ${r.module}, found in ${e.module}`);
    else if (e.license !== license) miss('wrong license', `${r.symbol} (${e.file}:${e.line})`);
    else if (e.namespace !== r.namespace) miss('wrong namespace', `${r.symbol}: "${r.namespace}", found "${e.namespace}" (${e.file}:${e.line})`);
    else {
      right++;
      if (!e.certain) uncertain++;
    }
  }
  const expected = new Set(rows.map((r) => r.symbol));
  const extra = [...found].filter(([s]) => !expected.has(s)).map(([s, f]) => `${s} (${f[0].module}, ${f[0].file}:${f[0].line}${f[0].certain ? '' : ', uncertain'})`);
  console.log(`scanned ${objects.length} objects in ${seconds} s (${scan.headers.files} shared headers indexed)`);
  console.log(`Module.symvers rows: ${rows.length}; right module, license and namespace: ${right} (${((100 * right) / rows.length).toFixed(2)} %), ${uncertain} of them in undecided #if branches`);
  for (const [cause, list] of misses) console.log(`  ${cause}: ${list.length}\n    ${list.join('\n    ')}`);
  console.log(`found but not in Module.symvers: ${extra.length}${extra.length ? '\n    ' + extra.join('\n    ') : ''}`);
  console.log(`scanner errors: ${scan.errors.length}${scan.errors.slice(0, 20).map((e) => `\n    ${e.file}:${e.line}: ${e.message}`).join('')}`);
  if (right / rows.length < 0.995) process.exitCode = 1;

  if (dependsFile) {
    // modpost's depends= names modules by file name ("-" kept); vmlinux is never listed.
    const base = (p) => p.slice(p.lastIndexOf('/') + 1);
    const actual = new Map(fs.readFileSync(dependsFile, 'utf8').trim().split('\n').map((l) => l.split('\t')).map(([m, d = '']) => [m, new Set(d ? d.split(',') : [])]));
    const owners = S.exportOwners(scan.modules.values());
    const headers = new S.HeaderReferences(scan.index);
    let same = 0;
    let total = 0;
    const wrong = [];
    const t1 = Date.now();
    for (const m of scan.modules.values()) {
      if (m.name === 'vmlinux') continue;
      const act = actual.get(base(m.name));
      if (!act) continue;
      total++;
      const deps = S.predictDependencies(m, owners, headers);
      const pred = new Set([...deps.keys()].filter((d) => d !== 'vmlinux').map(base));
      const extra = [...pred].filter((d) => !act.has(d));
      const missing = [...act].filter((d) => !pred.has(d));
      if (!extra.length && !missing.length) same++;
      else wrong.push(`${base(m.name)}:${extra.map((d) => ` +${d} (${deps.get([...deps.keys()].find((k) => base(k) === d)).slice(0, 2).join(',')})`).join('')}${missing.map((d) => ` -${d}`).join('')}`);
    }
    const dialect = S.detectDialect(src);
    const findings = S.checkTree(scan, dialect, config, src);
    const errors = findings.filter((f) => f.severity === 'error');
    console.log(`modpost's checks over the tree (predicted imports; ${dialect.description}): ${errors.length} errors, ${findings.length - errors.length} warnings`);
    for (const f of findings.slice(0, 40)) console.log(`    ${f.severity}: ${f.message}${f.file ? ` (${f.file}:${f.line})` : ''}`);
    console.log(`predicted dependencies: ${same} of ${total} modules identical to modinfo depends (${((100 * same) / total).toFixed(2)} %), predicted in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    console.log(`  differing (+ predicted only, with the symbols; - in depends only):\n    ${wrong.join('\n    ')}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 2;
});
