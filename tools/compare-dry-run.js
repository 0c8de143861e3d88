#!/usr/bin/env node
// Compares nx-kbuild-make's output with kbuild's `make -n -k all` output (see
// tools/intree-commands-check.sh): module member lists, modules.order, compile commands.
// Usage: compare-dry-run.js <dry-run.txt> <commands.json> <modules.order> [archives.json]; exit 1 on
// any difference.
'use strict';
const fs = require('fs');
const [dryFile, oursFile, orderFile, archivesFile] = process.argv.slice(2);
const text = fs.readFileSync(dryFile, 'utf8');
const ours = JSON.parse(fs.readFileSync(oursFile, 'utf8'));
let failed = false;

// A command as make-cmd quotes it in the dry run (shell-quoted, $ doubled, # as $(pound)).
const unquote = (cmd) => cmd.replace(/'\\''/g, "'").replace(/\$\(pound\)/g, '#').replace(/\$\$/g, '$');
// Targets made by if_changed (objcopy'd objects, archives): printf '%s\n' 'savedcmd_<target> := <cmd>' > <target>.cmd
const ifChanged = (suffix) => [...text.matchAll(new RegExp(`printf '%s\\\\n' 'savedcmd_(\\S+\\${suffix}) := ((?:[^']|'\\\\'')*)' > `, 'g'))].map((m) => [m[1], unquote(m[2])]);

// savedcmd_ of each object: the quoted command handed to fixdep.
const theirs = new Map();
for (const m of text.matchAll(/scripts\/basic\/fixdep (\S+) (\S+\.o) '((?:[^']|'\\'')*)'/g)) theirs.set(m[2], unquote(m[3]));
for (const [target, cmd] of ifChanged('.o')) if (!theirs.has(target) && ours.some((o) => o.object === target)) theirs.set(target, cmd);
// Each module's .mod file: printf '%s\n' <objects> | awk '!x[$0]++ { print("<dir>/"$0) }' > <mod>.mod
const members = new Map();
for (const m of text.matchAll(/printf '%s\\n'\s+(.*?) \| awk '!x\[\$0\]\+\+ \{ print\("([^"]*)\/"\$0\) \}' > (\S+)\.mod(?:;|$)/gm)) {
  const seen = new Set();
  members.set(m[3], m[1].trim().split(/\s+/).filter((o) => !seen.has(o) && seen.add(o)).map((o) => `${m[2]}/${o}`));
}

let same = 0;
let notCompiled = 0;
const diffs = [];
for (const o of ours) {
  const t = theirs.get(o.object);
  if (t === undefined) notCompiled++;
  else if (t === o.command) same++;
  else diffs.push(o.object);
}
const ourObjects = new Set(ours.map((o) => o.object));
const others = [...theirs.keys()].filter((o) => !ourObjects.has(o));
console.log(`compile commands: ${same} of ${same + diffs.length} objects the dry run compiles are byte-identical`);
console.log(`  ${notCompiled} of our ${ours.length} objects are not compiled by the dry run (their generated inputs need host tools -n does not build)`);
const ownOthers = ours.filter((o) => o.other || o.inputOf).length;
console.log(`  owners: ${ours.filter((o) => o.module && !o.inputOf).length} objects in modules, ${ours.length - ours.filter((o) => o.module && !o.inputOf).length - ownOthers} built in, ${ownOthers} other (vDSO, realmode, EFI stub, purgatory, objcopy inputs)`);
console.log(`  ${others.length} objects the dry run compiles that we do not list: host and user programs' objects (and scripts/mod/empty.o, a prepare step) (${others.slice(0, 4).join(' ')}${others.length > 4 ? ' ...' : ''})`);
for (const d of diffs.slice(0, 10)) {
  const a = ours.find((o) => o.object === d).command.split(' ');
  const b = theirs.get(d).split(' ');
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  console.log(`  differs: ${d}\n    ours:   ${a.slice(Math.max(0, i - 2), i + 4).join(' ')}\n    kbuild: ${b.slice(Math.max(0, i - 2), i + 4).join(' ')}`);
}
if (diffs.length) failed = true;

const byModule = new Map();
for (const o of ours) if (o.module && !o.inputOf) (byModule.get(o.module) ?? byModule.set(o.module, []).get(o.module)).push(o.object);
let membersSame = 0;
for (const [mod, list] of members) if (JSON.stringify(byModule.get(mod)) === JSON.stringify(list)) membersSame++;
console.log(`module member lists: ${membersSame} of ${members.size} identical (objects and order); we list ${byModule.size} modules`);
if (membersSame !== members.size || byModule.size !== members.size) failed = true;

// modules.order: each directory's modules.order as the dry run assembles it (echo its own
// modules, cat its subdirectories'), expanded, against our modules.order restricted to that directory.
const orderParts = new Map();
for (const m of text.matchAll(/\{ ((?:echo \S+;|cat \S+;|\s)*):; \} > (\S+)\/modules\.order/g)) {
  if (orderParts.has(m[2])) continue;
  orderParts.set(m[2], [...m[1].matchAll(/(echo|cat) (\S+);/g)].map((x) => [x[1], x[2]]));
}
const expand = (dir, seen = new Set()) => {
  if (seen.has(dir)) return [];
  seen.add(dir);
  return (orderParts.get(dir) ?? []).flatMap(([op, arg]) => (op === 'echo' ? [arg.replace(/\.o$/, '')] : expand(arg.replace(/\/modules\.order$/, ''), seen)));
};
const order = fs.readFileSync(orderFile, 'utf8').trim().split('\n').map((l) => l.replace(/\.o$/, ''));
// The root's own modules.order is not printed (-k stops before it): its parts are the directories
// no other directory includes, in the order the root's sub-makes visit them.
const included = new Set([...orderParts.values()].flatMap((parts) => parts.filter(([op]) => op === 'cat').map(([, a]) => a.replace(/\/modules\.order$/, ''))));
const rootBuild = text.search(/Makefile\.build obj=\. need-builtin=1/);
const visits = [...text.slice(rootBuild).matchAll(/Makefile\.build obj=(\S+)/g)].map((m) => m[1]);
const top = [...new Set(visits)].filter((d) => orderParts.has(d) && !included.has(d));
const theirOrder = top.flatMap((d) => expand(d));
// -k abandons directories whose generated inputs need unbuilt host tools (fs/, crypto/: ASN.1
// parsers): their modules.order is never written. The order is compared over the modules it lists.
const listed = new Set(theirOrder);
const comparable = order.filter((m) => listed.has(m));
const sameOrder = JSON.stringify(theirOrder) === JSON.stringify(comparable) && theirOrder.length === listed.size;
console.log(`modules.order: ${sameOrder ? 'identical order' : 'DIFFERENT order'} for the ${theirOrder.length} modules the dry run's modules.order files list; ${order.length - comparable.length} more of our ${order.length} are in directories the dry run abandons`);
if (!sameOrder) failed = true;

// Archives (built-in.a, lib.a): the savedcmd if_changed writes, for those the dry run makes (-k
// abandons directories whose subdirectories fail, and their parents').
if (archivesFile) {
  const archives = JSON.parse(fs.readFileSync(archivesFile, 'utf8'));
  const made = new Map();
  for (const [target, cmd] of ifChanged('.a')) if (!made.has(target)) made.set(target, cmd);
  const ourArchives = new Set(archives.map((a) => a.archive));
  let archivesSame = 0;
  let archivesMade = 0;
  for (const a of archives) {
    const t = made.get(a.archive);
    if (t === undefined) continue;
    archivesMade++;
    if (t === a.command) archivesSame++;
    else console.log(`  archive differs: ${a.archive}\n    ours:   ${a.command}\n    kbuild: ${t}`);
  }
  const notOurs = [...made.keys()].filter((a) => !ourArchives.has(a));
  console.log(`archives: ${archivesSame} of ${archivesMade} built-in.a/lib.a the dry run makes are byte-identical (savedcmd); we list ${archives.length}; the dry run makes ${notOurs.length} we do not list (${notOurs.slice(0, 4).join(' ')})`);
  if (archivesSame !== archivesMade || archivesMade === 0) failed = true;
}
process.exit(failed ? 1 : 0);
