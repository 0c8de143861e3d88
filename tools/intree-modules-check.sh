#!/usr/bin/env bash
# Whole-tree check of the kbuild evaluator (issue 4 groundwork): evaluates every Makefile of the
# Linux 6.12 tree with Debian's configuration (computed by nx-kconfig) and compares the modules,
# in order, with the modules.order Debian's own build shipped (linux-image-...-unsigned).
# With --dry-run it also runs kbuild's own `make -n -k all` (about 30 s) and compares every module's
# member list, object by object. Usage: tools/intree-modules-check.sh [--dry-run]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="${NX_KBUILD_LINUX_SRC:-$ROOT/.cache/linux-source-6.12}"
KDIR="${NX_KBUILD_KERNEL_DIR:-/usr/src/linux-headers-6.12.117+deb12-amd64}"
IMAGE="linux-image-6.12.117+deb12-amd64-unsigned"
CACHE="$ROOT/.cache"
[ -f "$ROOT/packages/kbuild-make/dist/index.js" ] || (cd "$ROOT" && npm run build >/dev/null)

ORDER="$CACHE/debian-modules.order"
if [ ! -f "$ORDER" ]; then
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download -qq "$IMAGE" >/dev/null 2>&1)
  dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './lib/modules/*/modules.order'
  mv "$tmp"/lib/modules/*/modules.order "$ORDER"
  rm -rf "$tmp"
fi

OUT="$(mktemp -d /tmp/nx-kbuild-intree-XXXXXX)"
cp "$KDIR/.config" "$OUT/.config"
(cd "$OUT" && node "$ROOT/packages/kconfig/dist/cli.js" --syncconfig --srctree "$SRC" 2>/dev/null)
# The globals the top and arch Makefiles export to the root Kbuild.
DRY=""
if [ "${1:-}" = "--dry-run" ]; then
  # -n does not create the tool build directories its sub-makes cd into.
  mkdir -p "$OUT/tools/objtool/libsubcmd" "$OUT/tools/bpf/resolve_btfids/libbpf" "$OUT/tools/bpf/resolve_btfids/libsubcmd"
  DRY="$OUT/dry-run.txt"
  make -n -k -C "$SRC" O="$OUT" all > "$DRY" 2>/dev/null || true
fi
VARS="$(make -s -C "$SRC" O="$OUT" --eval 'nxkb-vars: ; @echo "$(ARCH_LIB)|$(ARCH_CORE)|$(ARCH_DRIVERS)|$(BITS)"' nxkb-vars 2>/dev/null | tail -n 1)"

node - "$SRC" "$OUT/include/config/auto.conf" "$ORDER" "$VARS" "$DRY" <<'JS'
const [src, autoConf, order, vars, dry] = process.argv.slice(2);
const fs = require('fs');
const k = require(require.resolve('@nx-kbuild/kbuild-make', { paths: [process.cwd()] }));
const { readConfigFile } = require(require.resolve('@nx-kbuild/kconfig', { paths: [process.cwd()] }));
const [ARCH_LIB, ARCH_CORE, ARCH_DRIVERS, BITS] = vars.split('|');
const variables = { ...Object.fromEntries(readConfigFile(autoConf, 'auto.conf').values), srctree: src, objtree: '.', SRCARCH: 'x86', ARCH: 'x86', ARCH_LIB, ARCH_CORE, ARCH_DRIVERS, BITS };
const t0 = process.hrtime.bigint();
const tree = k.evaluateModuleTree({ root: src, kernelDir: src, variables, kbuildCflags: '', sources: 'any' });
const ms = Number(process.hrtime.bigint() - t0) / 1e6;
const ours = tree.modules.map((m) => m.path.slice(src.length + 1) + '.ko');
const deb = fs.readFileSync(order, 'utf8').trim().split('\n').map((l) => l.replace(/^kernel\//, ''));
const so = new Set(ours), sd = new Set(deb);
const missing = deb.filter((m) => !so.has(m)), extra = ours.filter((m) => !sd.has(m));
const same = JSON.stringify(ours) === JSON.stringify(deb);
console.log(`${tree.makefiles.length} Makefiles evaluated in ${ms.toFixed(0)} ms (one process)`);
const objects = tree.modules.reduce((n, m) => n + m.members.length, 0);
console.log(`objects: ${objects} in modules, ${tree.builtin.length} linked into vmlinux (${tree.builtin.filter((b) => b.kind === 'lib').length} of them through lib.a)`);
console.log(`modules: ${ours.length} evaluated, ${deb.length} in Debian's modules.order; missing ${missing.length}, extra ${extra.length}; identical order: ${same}`);
if (dry) {
  // kbuild's cmd_mod: printf '%s\n' <objects> | awk '!x[$0]++ { print("<dir>/"$0) }' > <dir>/<mod>.mod
  const re = /printf '%s\\n'\s+(.*?) \| awk '!x\[\$0\]\+\+ \{ print\("([^"]*)\/"\$0\) \}' > (\S+)\.mod(?:;|$)/;
  const theirs = new Map();
  for (const line of fs.readFileSync(dry, 'utf8').split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    const seen = new Set();
    theirs.set(m[3], m[1].trim().split(/\s+/).filter((o) => !seen.has(o) && seen.add(o)).map((o) => `${m[2]}/${o}`));
  }
  const mine = new Map(tree.modules.map((m) => [m.path.slice(src.length + 1), m.members.map((o) => o.object.slice(src.length + 1))]));
  const same = [...theirs].filter(([mod, list]) => JSON.stringify(mine.get(mod)) === JSON.stringify(list)).length;
  console.log(`member lists against make -n: ${same} of ${theirs.size} identical (objects and order)`);
  if (same !== theirs.size) process.exitCode = 1;
  // Each built-in.a / lib.a the dry run archives: its objects (not sub-archives), in order.
  const archives = new Map();
  const text = fs.readFileSync(dry, 'utf8');
  for (const m of text.matchAll(/printf "([^"%]*)%s " ([^|]*?) \| xargs ar cDPrST (\S+?)(?:;|'|$| )/g)) if (!archives.has(m[3])) archives.set(m[3], m[2].trim().split(/\s+/).map((o) => m[1] + o));
  for (const m of text.matchAll(/ar cDPrsT (\S+lib\.a) ([^;']*)/g)) if (!archives.has(m[1])) archives.set(m[1], m[2].trim().split(/\s+/));
  let archSame = 0, archTotal = 0;
  for (const [a, members] of archives) {
    const kind = a.endsWith('/built-in.a') ? 'built-in' : a.endsWith('/lib.a') ? 'lib' : undefined;
    if (!kind) continue;
    const d = a.slice(0, a.lastIndexOf('/'));
    const mineObjs = tree.builtin.filter((b) => b.kind === kind && b.dir.slice(src.length + 1) === d).map((b) => b.object.slice(src.length + 1));
    // libstub's lib.a is reached through subdir-y only: built, not linked into vmlinux.
    if (kind === 'lib' && mineObjs.length === 0 && d.includes('libstub')) continue;
    archTotal++;
    if (JSON.stringify(mineObjs) === JSON.stringify(members.filter((x) => !x.endsWith('.a')))) archSame++;
  }
  console.log(`archives against make -n: ${archSame} of ${archTotal} built-in.a/lib.a object lists identical`);
  if (archSame !== archTotal) process.exitCode = 1;
}
for (const m of missing.slice(0, 20)) console.log(`  missing ${m}`);
for (const m of extra.slice(0, 20)) console.log(`  extra   ${m}`);
if (!same) process.exitCode = 1;
JS
rm -rf "$OUT"
