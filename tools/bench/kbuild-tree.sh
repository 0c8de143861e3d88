#!/usr/bin/env bash
# Benchmark: evaluating the whole Linux 6.12 tree (Debian's config) with nx-kbuild-make against
# kbuild's own dry run, `make -n -k all`, in the same O= directory, same machine, same run.
# Both produce every object's compile command. Cold: no cached kbuild environment and no cached
# $(shell) probes (they run); warm: both cached. Usage: tools/bench/kbuild-tree.sh [runs]
set -euo pipefail
RUNS="${1:-5}"
source "$(dirname "$0")/debian-objtree.sh"
CLI="node $ROOT/packages/kbuild-make/dist/cli.js --srctree $SRC --objtree $OUT --commands=commands.json"
cat > "$WORK/make-n.sh" <<SH
make -n -k -C "$SRC" O="$OUT" all >/dev/null 2>&1 || true
SH
cat > "$WORK/cold.sh" <<SH
rm -f "$WORK/shell.json" "$OUT/.nx-kbuild-env.json"
SH
hyperfine -N --runs "$RUNS" --export-json "$WORK/cold.json" \
  --command-name 'make -n -k all' "bash $WORK/make-n.sh" \
  --command-name nx-kbuild-make --prepare "bash $WORK/cold.sh" "$CLI" >/dev/null
$CLI >/dev/null 2>&1
hyperfine -N --runs "$RUNS" --export-json "$WORK/warm.json" \
  --command-name 'make -n -k all' "bash $WORK/make-n.sh" \
  --command-name nx-kbuild-make "$CLI" >/dev/null

node - "$WORK" <<'JS'
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const get = (f, c) => median(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).results.find((r) => r.command === c).times);
console.log('| whole-tree evaluation, Debian config | make -n -k all median (s) | nx-kbuild-make median (s) | ratio |');
console.log('| --- | ---: | ---: | ---: |');
for (const [f, label] of [['cold', 'cold (environment probed, $(shell) probes run)'], ['warm', 'warm (environment and probes cached)']]) {
  const a = get(`${f}.json`, 'make -n -k all'), b = get(`${f}.json`, 'nx-kbuild-make');
  console.log(`| ${label} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(2)}× |`);
}
JS
