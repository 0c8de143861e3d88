#!/usr/bin/env bash
# Benchmark: nx-kconfig against the kernel's conf (`make olddefconfig`) on Debian's 6.12 config,
# same machine, same run. Cold: toolchain probes run (empty caches); warm: probes cached, the
# Kconfig files parsed again, or the kept evaluation plan used, the configuration evaluated again
# (as after a .config edit); unchanged: nothing read changed, the last result is reused.
# Also times parsing all Kconfig files in one process. Usage: tools/bench/kconfig.sh [runs]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
RUNS="${1:-5}"
SRC="${NX_KBUILD_LINUX_SRC:-$ROOT/.cache/linux-source-6.12}"
SEED="${NX_KBUILD_KERNEL_DIR:-/usr/src/linux-headers-6.12.117+deb12-amd64}/.config"
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
[ -f "$ROOT/packages/kconfig/dist/cli.js" ] || (cd "$ROOT" && npm run build >/dev/null)

WORK="$(mktemp -d /tmp/nx-kconfig-bench-XXXXXX)"
mkdir -p "$WORK/conf" "$WORK/ours"
cp "$SEED" "$WORK/conf/.config"; cp "$SEED" "$WORK/ours/.config"
make -s -C "$SRC" O="$WORK/conf" olddefconfig >/dev/null   # builds conf itself once
CLI="node $ROOT/packages/kconfig/dist/cli.js --olddefconfig --srctree $SRC"
export NX_KCONFIG_CACHE="$WORK/probes.json"

cd "$WORK/ours"
RESULT="$WORK/ours/include/config/.nx-kconfig-result.json"
MODEL="$WORK/ours/include/config/.nx-kconfig-model.bin"
PLAN="$WORK/ours/include/config/.nx-kconfig-plan.bin"
# cold: no probe cache, no kept tree or plan, no result cache (every $(shell) probe runs, everything is read)
hyperfine -N --runs "$RUNS" --export-json "$WORK/cold.json" \
  --command-name conf "make -s -C $SRC O=$WORK/conf olddefconfig" \
  --command-name nx-kconfig --prepare "rm -f $WORK/probes.json $RESULT $MODEL $MODEL.key $PLAN" "$CLI" >/dev/null
$CLI >/dev/null
# warm, parsed: probes cached, every Kconfig file parsed again (as after a Kconfig change), the
# configuration evaluated again
hyperfine -N --runs "$RUNS" --export-json "$WORK/parsed.json" \
  --command-name conf "make -s -C $SRC O=$WORK/conf olddefconfig" \
  --command-name nx-kconfig --prepare "rm -f $RESULT $MODEL $MODEL.key $PLAN" "$CLI" >/dev/null
# the same tree parsed twice in a row is kept
for _ in 1 2; do rm -f "$RESULT"; $CLI >/dev/null; done
[ -f "$MODEL" ] && [ -f "$PLAN" ] || { echo "the parsed tree and its plan were not kept" >&2; exit 1; }
# warm, evaluated: probes cached, the evaluation plan kept, the configuration evaluated again
# (as after editing .config)
hyperfine -N --runs "$RUNS" --export-json "$WORK/warm.json" \
  --command-name conf "make -s -C $SRC O=$WORK/conf olddefconfig" \
  --command-name nx-kconfig --prepare "rm -f $RESULT" "$CLI" >/dev/null
$CLI >/dev/null
# warm, unchanged: nothing it read has changed since the last run (content-hash result cache)
hyperfine -N --runs "$RUNS" --export-json "$WORK/unchanged.json" \
  --command-name conf "make -s -C $SRC O=$WORK/conf olddefconfig" \
  --command-name nx-kconfig "$CLI" >/dev/null
cmp -s "$WORK/conf/.config" "$WORK/ours/.config" || { echo "outputs differ" >&2; exit 1; }

node - "$WORK" "$SRC" "$ROOT" <<'JS'
const fs = require('fs'), path = require('path');
const [dir, src, root] = process.argv.slice(2);
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const get = (f, c) => median(JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).results.find((r) => r.command === c).times);
console.log('| olddefconfig, Debian config | conf median (s) | nx-kconfig median (s) | conf / nx-kconfig |');
console.log('| --- | ---: | ---: | ---: |');
const rows = {
  cold: 'cold (probes run)',
  parsed: 'warm, Kconfig parsed again (probes cached)',
  warm: 'warm, evaluated (probes cached, evaluation plan kept)',
  unchanged: 'warm, inputs unchanged (result cache)',
};
for (const [f, label] of Object.entries(rows)) {
  const a = get(`${f}.json`, 'conf'), b = get(`${f}.json`, 'nx-kconfig');
  console.log(`| ${label} | ${a.toFixed(2)} | ${b.toFixed(2)} | ${(a / b).toFixed(2)}× |`);
}
// Parsing alone: all Kconfig files, one process, one core (median of 5, each in a fresh process).
const { execFileSync } = require('child_process');
const script = `const k=require(${JSON.stringify(path.join(root, 'packages/kconfig/dist'))});const s=new k.CachedShell(process.env.NX_KCONFIG_CACHE,'.',process.env);const e=k.kbuildEnvironment(${JSON.stringify(src)},process.env,s);s.env=e;const t=process.hrtime.bigint();const tr=k.loadKconfig({srctree:${JSON.stringify(src)},env:e,shell:s});console.log(Number(process.hrtime.bigint()-t)/1e6, tr.files.length)`;
const runs = [];
let files = 0;
for (let i = 0; i < 5; i++) { const [ms, n] = execFileSync('taskset', ['-c', '0', process.execPath, '-e', script], { encoding: 'utf8' }).trim().split(' ').map(Number); runs.push(ms); files = n; }
console.log(`\nParsing and finalizing all ${files} Kconfig files (one core, probes cached): median ${median(runs).toFixed(0)} ms`);
JS
rm -rf "$WORK"
