#!/usr/bin/env bash
# Benchmark: the whole-tree symbol scan and modpost's checks (nx-symbols check) on Linux 6.12 with
# Debian's config: the kbuild evaluation (its environment and probes cached), every compiled
# source scanned, imports predicted, checks run. There is no kbuild pass to compare with before a
# build (modpost runs after compiling everything); kbuild's dry run of the same tree, the cheapest
# pass that visits it, is timed in the same run for scale. Usage: tools/bench/symbols-tree.sh [runs]
set -euo pipefail
RUNS="${1:-3}"
source "$(dirname "$0")/debian-objtree.sh"
CHECK="node $ROOT/packages/symbols/dist/cli.js --srctree $SRC --objtree $OUT check"
$CHECK > "$WORK/check.txt" 2>&1 || true
tail -n 1 "$WORK/check.txt"
cat > "$WORK/make-n.sh" <<SH
make -n -k -C "$SRC" O="$OUT" all >/dev/null 2>&1 || true
SH
cat > "$WORK/check.sh" <<SH
$CHECK >/dev/null 2>&1 || true
SH
hyperfine -N --runs "$RUNS" --export-json "$WORK/times.json" \
  --command-name 'make -n -k all' "bash $WORK/make-n.sh" \
  --command-name 'nx-symbols check' "bash $WORK/check.sh" >/dev/null
node - "$WORK/times.json" <<'JS'
const r = require(process.argv[2]).results;
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
for (const x of r) console.log(`${x.command.padEnd(18)} median ${median(x.times).toFixed(2)} s over ${x.times.length} runs`);
JS
