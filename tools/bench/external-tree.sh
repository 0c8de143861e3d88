#!/usr/bin/env bash
# Benchmark: nx-kbuild against `make M=` on the example module tree, same machine, same run.
# Scenarios: cold build, no-op, one-file edit, header edit, fresh clone with a warm cache.
# Usage: tools/bench/external-tree.sh [runs]   (needs hyperfine; prints a markdown table)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RUNS="${1:-5}"
KDIR="${NX_KBUILD_KERNEL_DIR:-/usr/src/linux-headers-6.12.117+deb12-amd64}"
command -v hyperfine >/dev/null || { apt-get install -y -qq hyperfine >/dev/null; }
[ -f "$ROOT/packages/nx-kbuild/dist/index.js" ] || (cd "$ROOT" && npm run build >/dev/null)

WORK="$(mktemp -d /tmp/nx-kbuild-bench-XXXXXX)"
TREE="$WORK/tree"
OUT="$WORK/results"
mkdir -p "$OUT"
cp -r "$ROOT/examples/modtree" "$TREE"
rm -rf "$TREE/.nx" "$TREE/.nx-kbuild"
ln -s "$ROOT/node_modules" "$TREE/node_modules"
CONFIG_ARGS="$(node "$ROOT/packages/nx-kbuild/dist/cli/tree-config.js" "$TREE" --kernel "$KDIR" | tr "\n" " ")"

export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
export NX_CACHE_DIRECTORY="$WORK/nx-cache" NX_WORKSPACE_DATA_DIRECTORY="$WORK/nx-data"
NX="node $ROOT/node_modules/nx/dist/bin/nx.js run-many -t link --parallel=2 --outputStyle=static"
MAKE="make -s -j2 -C $KDIR M=$TREE $CONFIG_ARGS modules"
# Prepare steps as small scripts (hyperfine runs commands without a shell).
cat > "$WORK/clean.sh" <<SH
find "$TREE" -path "$TREE/node_modules" -prune -o \\( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \\
  -o -name '*.symvers' -o -name '.*.cmd' -o -name '.*.d' -o -name modules.order -o -name '.*.modorder' \\) -type f -exec rm -f {} +
SH
cat > "$WORK/cold-nx.sh" <<SH
sh "$WORK/clean.sh"; rm -rf "$WORK/nx-cache" "$TREE/.nx-kbuild"
SH
printf 'echo "/* edit $(date +%%s%%N) */" >> "%s"\n' "$TREE/drivers/exm_relay.c" > "$WORK/edit-c.sh"
printf 'echo "/* edit $(date +%%s%%N) */" >> "%s"\n' "$TREE/include/exm/core.h" > "$WORK/edit-h.sh"
CLEAN="sh $WORK/clean.sh"

cd "$TREE"
bench() { # name, prepare-nx, prepare-make
  hyperfine -N --runs "$RUNS" --export-json "$OUT/$1.json" \
    --command-name nx --prepare "$2" "$NX" \
    --command-name make --prepare "$3" "$MAKE" >/dev/null
}
# Cold: no outputs; Nx with an empty cache.
bench cold "sh $WORK/cold-nx.sh" "$CLEAN"
# Both tools warm from here on.
$MAKE >/dev/null 2>&1; $NX >/dev/null 2>&1
bench noop "true" "true"
bench edit-c "sh $WORK/edit-c.sh" "sh $WORK/edit-c.sh"
bench edit-h "sh $WORK/edit-h.sh" "sh $WORK/edit-h.sh"
# A fresh clone at the same path: no outputs, Nx's cache warm (make has no cache).
$NX >/dev/null 2>&1
bench fresh-clone "$CLEAN" "$CLEAN"

node - "$OUT" <<'JS'
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
console.log('| scenario | nx-kbuild median (s) | make M= median (s) | make / nx |');
console.log('| --- | ---: | ---: | ---: |');
for (const name of ['cold', 'noop', 'edit-c', 'edit-h', 'fresh-clone']) {
  const r = JSON.parse(fs.readFileSync(path.join(dir, name + '.json'), 'utf8')).results;
  const nx = median(r.find((x) => x.command === 'nx').times), mk = median(r.find((x) => x.command === 'make').times);
  console.log(`| ${name} | ${nx.toFixed(2)} | ${mk.toFixed(2)} | ${(mk / nx).toFixed(2)}× |`);
}
JS
rm -rf "$WORK"
