#!/usr/bin/env bash
# Benchmark: the Nx project graph of a whole in-tree kernel (Linux 6.12, Debian's config, every one of
# its 4,230 modules a project): `nx show projects` without the daemon, which computes the graph each
# time, with nothing kept (no evaluation memo, no kept symbol scan) and with what the last one kept
# (nothing changed), timed with kbuild's own plan of the same tree (`make -n -k all`) for scale,
# same machine, same run. The workspace is a hard-linked copy of the source tree (nothing is written into
# the shared one) with its build directory inside. Usage: tools/bench/intree-graph.sh [runs]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RUNS="${1:-3}"
SRC="${NX_KBUILD_LINUX_SRC:-$ROOT/.cache/linux-source-6.12}"
KDIR="${NX_KBUILD_KERNEL_DIR:-/usr/src/linux-headers-6.12.117+deb12-amd64}"
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
[ -f "$ROOT/packages/nx-kbuild/dist/index.js" ] || (cd "$ROOT" && npm run build >/dev/null)
WORK="$(mktemp -d /tmp/nx-kbuild-graph-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

TREE="$WORK/linux"
cp -al "$SRC" "$TREE"
mkdir -p "$TREE/.nx-kbuild-out/build"
cp "$KDIR/.config" "$TREE/.nx-kbuild-out/build/.config"
make -s -C "$TREE" O="$TREE/.nx-kbuild-out/build" olddefconfig >/dev/null
make -s -j2 -C "$TREE" O="$TREE/.nx-kbuild-out/build" prepare >/dev/null
# make -n does not create the tool build directories its sub-makes cd into.
mkdir -p "$TREE/.nx-kbuild-out/build/tools/objtool/libsubcmd" "$TREE/.nx-kbuild-out/build/tools/bpf/resolve_btfids/libbpf" "$TREE/.nx-kbuild-out/build/tools/bpf/resolve_btfids/libsubcmd"
echo '{ "plugins": [ { "plugin": "nx-kbuild", "options": { "objtree": ".nx-kbuild-out/build" } } ] }' > "$TREE/nx.json"
echo 'NX_ISOLATE_PLUGINS=false' > "$TREE/.env"
ln -s "$ROOT/node_modules" "$TREE/node_modules"

cat > "$WORK/graph.sh" <<SH
cd "$TREE" && NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NX_CACHE_DIRECTORY="$WORK/nx-cache" \
  NX_WORKSPACE_DATA_DIRECTORY="$WORK/nx-data" "$ROOT/node_modules/.bin/nx" show projects > "$WORK/projects.txt"
SH
cat > "$WORK/make-n.sh" <<SH
make -n -k -C "$TREE" O="$TREE/.nx-kbuild-out/build" all >/dev/null 2>&1 || true
SH
bash "$WORK/graph.sh" 2>"$WORK/graph.err" || { cat "$WORK/graph.err" >&2; exit 1; } # kbuild environment and $(shell) probes cached, as for the later runs
KEPT="$TREE/.nx-kbuild-out/build/.nx-kbuild"
hyperfine -N --runs "$RUNS" --export-json "$WORK/graph.json" \
  --prepare true --command-name 'make -n -k all' "bash $WORK/make-n.sh" \
  --prepare "rm -rf $KEPT" --command-name 'cold' "bash $WORK/graph.sh" \
  --prepare true --command-name 'kept' "bash $WORK/graph.sh" >/dev/null
rm -rf "$KEPT"
/usr/bin/time -f '%M' -o "$WORK/rss-cold.txt" bash "$WORK/graph.sh" 2>/dev/null
/usr/bin/time -f '%M' -o "$WORK/rss-kept.txt" bash "$WORK/graph.sh" 2>/dev/null

node - "$WORK" <<'JS'
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const results = JSON.parse(fs.readFileSync(path.join(dir, 'graph.json'), 'utf8')).results;
const get = (c) => median(results.find((r) => r.command === c).times);
const projects = fs.readFileSync(path.join(dir, 'projects.txt'), 'utf8').trim().split('\n').length;
const rss = (f) => (Number(fs.readFileSync(path.join(dir, f), 'utf8').trim().split('\n').pop()) / 1024 / 1024).toFixed(1);
console.log('| whole in-tree kernel, Debian config | median (s) | peak |');
console.log('| --- | ---: | ---: |');
console.log(`| \`make -n -k all\` | ${get('make -n -k all').toFixed(2)} | |`);
console.log(`| \`nx show projects\` (${projects} projects), nothing kept | ${get('cold').toFixed(2)} | ${rss('rss-cold.txt')} GB |`);
console.log(`| \`nx show projects\`, nothing changed (kept evaluation and scan) | ${get('kept').toFixed(2)} | ${rss('rss-kept.txt')} GB |`);
JS
