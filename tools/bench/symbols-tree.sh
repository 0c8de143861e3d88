#!/usr/bin/env bash
# Benchmark: the whole-tree symbol scan and modpost's checks (nx-symbols check) on Linux 6.12 with
# Debian's config: the kbuild evaluation (its environment and probes cached), every compiled
# source scanned, imports predicted, checks run. There is no kbuild pass to compare with before a
# build (modpost runs after compiling everything); kbuild's dry run of the same tree, the cheapest
# pass that visits it, is timed in the same run for scale. Usage: tools/bench/symbols-tree.sh [runs]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RUNS="${1:-3}"
SRC="${NX_KBUILD_LINUX_SRC:-$ROOT/.cache/linux-source-6.12}"
KDIR="${NX_KBUILD_KERNEL_DIR:-/usr/src/linux-headers-6.12.117+deb12-amd64}"
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
[ -f "$ROOT/packages/symbols/dist/cli.js" ] || (cd "$ROOT" && npm run build >/dev/null)

WORK="$(mktemp -d /tmp/nx-kbuild-symbols-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
OUT="$WORK/out"
mkdir -p "$OUT"
cp "$KDIR/.config" "$OUT/.config"
make -s -C "$SRC" O="$OUT" olddefconfig >/dev/null
mkdir -p "$OUT/tools/objtool/libsubcmd" "$OUT/tools/bpf/resolve_btfids/libbpf" "$OUT/tools/bpf/resolve_btfids/libsubcmd"
export NX_KBUILD_SHELL_CACHE="$WORK/shell.json"
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
