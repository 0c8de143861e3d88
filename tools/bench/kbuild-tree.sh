#!/usr/bin/env bash
# Benchmark: evaluating the whole Linux 6.12 tree (Debian's config) with nx-kbuild-make against
# kbuild's own dry run, `make -n -k all`, in the same O= directory, same machine, same run.
# Both produce every object's compile command (nx-kbuild-make writes them all, --commands).
#   cold:      no cached kbuild environment, no cached $(shell) probes (they run), no memo
#   warm:      environment and probes cached, every directory evaluated (--no-memo)
#   unchanged: the memo serves every directory (nothing changed since the last run)
#   one edit:  one module directory's Makefile changed before each run (a ccflags-y line), on a
#              hard-linked copy of the tree: that directory is evaluated, the memo serves the rest;
#              timed writing every command (--commands) and writing modules.order only
# make has no memo: its dry run after an edit costs what it costs warm.
# Usage: tools/bench/kbuild-tree.sh [runs]
set -euo pipefail
RUNS="${1:-5}"
source "$(dirname "$0")/debian-objtree.sh"
CLI="node $ROOT/packages/kbuild-make/dist/cli.js --srctree $SRC --objtree $OUT --commands=commands.json"
cat > "$WORK/make-n.sh" <<SH
make -n -k -C "$SRC" O="$OUT" all >/dev/null 2>&1 || true
SH
cat > "$WORK/cold.sh" <<SH
rm -rf "$WORK/shell.json" "$OUT/.nx-kbuild-env.json" "$OUT/.nx-kbuild"
SH
hyperfine -N --runs "$RUNS" --export-json "$WORK/cold.json" \
  --command-name 'make -n -k all' "bash $WORK/make-n.sh" \
  --command-name nx-kbuild-make --prepare "bash $WORK/cold.sh" "$CLI" >/dev/null
$CLI >/dev/null 2>&1
hyperfine -N --runs "$RUNS" --export-json "$WORK/warm.json" \
  --command-name 'make -n -k all' "bash $WORK/make-n.sh" \
  --command-name nx-kbuild-make "$CLI --no-memo" >/dev/null
$CLI >/dev/null 2>&1
hyperfine -N --runs "$RUNS" --export-json "$WORK/unchanged.json" --command-name nx-kbuild-make "$CLI" >/dev/null

# One edit: a copy of the tree (hard links; the edit replaces the file) with its own build directory.
copy_tree
CLI2="node $ROOT/packages/kbuild-make/dist/cli.js --srctree $WORK/src --objtree $WORK/out2 --commands=commands.json"
edit_script drivers/net/ethernet/intel/e1000e/Makefile 'ccflags-y += -DNX_BENCH_EDIT=$RANDOM$RANDOM'
for _ in 1 2; do $CLI2 >/dev/null 2>&1; done
hyperfine -N --runs "$RUNS" --export-json "$WORK/edit.json" --command-name nx-kbuild-make --prepare "bash $WORK/edit.sh" "$CLI2" >/dev/null
# The same, writing only modules.order (not the 45 MB of commands)
hyperfine -N --runs "$RUNS" --export-json "$WORK/edit-order.json" --command-name nx-kbuild-make --prepare "bash $WORK/edit.sh" \
  "${CLI2% --commands=commands.json} --modules-order=modules.order" >/dev/null
NX_KBUILD_TIMING=1 $CLI2 2>&1 >/dev/null | grep -o '[0-9]* directories evaluated, [0-9]* from the memo' | sed 's/^/last edit run: /'

node - "$WORK" <<'JS'
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const get = (f, c) => median(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).results.find((r) => r.command === c).times);
console.log('| whole-tree evaluation, Debian config | make -n -k all median (s) | nx-kbuild-make median (s) | ratio |');
console.log('| --- | ---: | ---: | ---: |');
const makeWarm = get('warm.json', 'make -n -k all');
for (const [f, label] of [
  ['cold', 'cold (environment probed, $(shell) probes run)'],
  ['warm', 'warm, every directory evaluated (environment and probes cached)'],
  ['unchanged', 'warm, nothing changed (memo)'],
  ['edit', 'one Makefile edited (memo)'],
  ['edit-order', 'one Makefile edited (memo), writing modules.order only'],
]) {
  const a = fs.readFileSync(path.join(dir, `${f}.json`), 'utf8').includes('make -n -k all') ? get(`${f}.json`, 'make -n -k all') : makeWarm;
  const b = get(`${f}.json`, 'nx-kbuild-make');
  console.log(`| ${label} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(2)}× |`);
}
JS
