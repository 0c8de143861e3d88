#!/usr/bin/env node
// Compares the plans nx-kbuild-make gives for the files directories' rules make (--made-files) with
// kbuild's `make -n -k all` output (see tools/intree-commands-check.sh): for each step, the dry run's
// line for its target (the one whose delete-on-interrupt traps name it) must run the same command,
// followed by what kbuild's if_changed (savedcmd_ by printf), if_changed_dep (fixdep) or cmd (nothing)
// adds; a filechk step's commands must be those the dry run's filechk line runs into its temporary
// file, and a rule's own shell lines must be lines of the dry run.
// Usage: compare-made-files.js <dry-run.txt> <made-files.json>; exit 1 on any difference.
'use strict';
const fs = require('fs');
const [dryFile, madeFile] = process.argv.slice(2);
const lines = fs.readFileSync(dryFile, 'utf8').split('\n');
const made = JSON.parse(fs.readFileSync(madeFile, 'utf8'));
const lineOf = new Map();
for (const l of lines) {
  const m = /trap 'rm -f (\S+); trap - PIPE; kill -s PIPE \$\$' PIPE; /.exec(l);
  if (m && !lineOf.has(m[1])) lineOf.set(m[1], l.slice(m.index + m[0].length));
}
// kbuild's filechk: `trap "rm -f <dir>/.tmp_<file>" EXIT; { <filechk_name>; } > <dir>/.tmp_<file>; if ...`
const filechkOf = new Map();
for (const l of lines) {
  const m = /trap "rm -f (\S+)" EXIT; \{ (.*); \} > (\S+); if /.exec(l);
  if (m && m[1] === m[3] && !filechkOf.has(m[1])) filechkOf.set(m[1], m[2]);
}
const tmpTarget = (t) => t.replace(/[^/]*$/, (b) => `.tmp_${b}`);
const after = { if_changed: (t) => `; printf '%s\\n' 'savedcmd_${t} := `, if_changed_dep: () => '; scripts/basic/fixdep ', cmd: () => '' };
const steps = new Map();
let unsupported = 0;
for (const f of made) {
  if (f.plan.unsupported) unsupported++;
  else for (const s of f.plan.steps) steps.set(s.target, s);
}
let same = 0;
let absent = 0;
const diffs = [];
const dryText = '\n' + lines.join('\n') + '\n';
for (const s of steps.values()) {
  if (s.how === 'recipe') {
    // A rule's own shell lines: each is a line of the dry run as it is (make prints recipe lines whole).
    const missing = s.lines.filter((l) => !dryText.includes(`\n${l}\n`));
    if (missing.length === s.lines.length) absent++;
    else if (missing.length === 0) same++;
    else diffs.push(`${s.target} (recipe): lines not in the dry run:\n  ${missing.join('\n  ')}`);
    continue;
  }
  if (s.how === 'filechk') {
    const theirs = filechkOf.get(tmpTarget(s.target));
    if (theirs === undefined) absent++;
    else if (theirs === s.command) same++;
    else diffs.push(`${s.target} (filechk):\n  ours:   ${s.command}\n  theirs: ${theirs}`);
    continue;
  }
  const theirs = lineOf.get(s.target);
  if (theirs === undefined) {
    absent++;
    continue;
  }
  const tail = after[s.how](s.target);
  if (theirs.startsWith(s.command) && (tail === '' ? theirs.length === s.command.length : theirs.slice(s.command.length).startsWith(tail))) same++;
  else diffs.push(`${s.target} (${s.how}):\n  ours:   ${s.command}\n  theirs: ${theirs.slice(0, s.command.length + 80)}`);
}
console.log(`made files: ${made.length} (${unsupported} not planned); steps: ${same} of ${steps.size} run the dry run's command${absent ? `, ${absent} not in the dry run` : ''}`);
for (const d of diffs.slice(0, 20)) console.log(d);
process.exit(diffs.length ? 1 : 0);
