#!/usr/bin/env bash
# Benchmark: the whole-tree symbol scan and modpost's checks (nx-symbols check) on Linux 6.12 with
# Debian's config: the kbuild evaluation, every compiled source scanned, imports predicted, checks
# run. There is no kbuild pass to compare with before a build (modpost runs after compiling
# everything); kbuild's dry run of the same tree, the cheapest pass that visits it, is timed in the
# same run for scale.
#   cold: nothing kept but the toolchain probes (no evaluation memo, no kept scan or check)
#   warm: nothing changed since the last check (the kept result, after checking every file it read)
#   a query (why kvm-intel kvm) after the check, answered from its kept answers; and with the check's
#     result removed before each run, from the kept scan and predictions
#   one source edited: a copy of the tree (hard links) where drivers/net/dummy.c gets a new comment
#     before each run: that module is scanned and predicted again, the 4,230 others kept
#   one export moved: drivers/usb/storage/usb.c stops (or again starts) exporting usb_stor_suspend
#     before each run: usb-storage is scanned again, the modules that can reach the symbol predicted again
#   one shared header edited: include/linux/netdevice.h gets (or loses) a comment line at its top
#     before each run, which moves every definition in it: the header index is built again, the
#     modules whose scan looked up one of its macros are scanned again, those that can meet one of
#     its names predicted again
#   an #include added to a shared header: include/linux/netdevice.h gets (or loses) an
#     `#include <linux/mii.h>` line first inside its include guard before each run: besides what a
#     line moving its definitions does, the modules that include netdevice.h, directly or through
#     other headers, are predicted again; and include/linux/usb/storage.h gets (or loses)
#     `#include <linux/ti_wilink_st.h>` the same way
# Usage: tools/bench/symbols-tree.sh [runs]
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
hyperfine -N --runs "$RUNS" --export-json "$WORK/cold.json" \
  --command-name 'make -n -k all' "bash $WORK/make-n.sh" \
  --command-name 'nx-symbols check' --prepare "rm -rf $OUT/.nx-kbuild" "bash $WORK/check.sh" >/dev/null
bash "$WORK/check.sh"
hyperfine -N --runs "$RUNS" --export-json "$WORK/warm.json" --command-name 'nx-symbols check' "bash $WORK/check.sh" >/dev/null
$CHECK > "$WORK/check-warm.txt" 2>&1 || true
cmp -s "$WORK/check.txt" "$WORK/check-warm.txt" || { echo "the kept result differs from the checked one" >&2; exit 1; }
# A query (why kvm-intel kvm) after the check: answered from the check's kept answers, and, with
# the check's result removed before each run, from the kept scan and predictions (nothing to scan).
cat > "$WORK/why.sh" <<SH
node $ROOT/packages/symbols/dist/cli.js --srctree $SRC --objtree $OUT why kvm-intel kvm >/dev/null 2>&1 || true
SH
hyperfine -N --runs "$RUNS" --export-json "$WORK/why.json" --command-name 'nx-symbols why' "bash $WORK/why.sh" >/dev/null
hyperfine -N --runs "$RUNS" --export-json "$WORK/why-kept-scan.json" --command-name 'nx-symbols why' --prepare "rm -f $OUT/.nx-kbuild/symbols-check.json" "bash $WORK/why.sh" >/dev/null
# One edit: a copy of the tree (hard links; the edit replaces the file) with its own build directory.
copy_tree
CHECK2="node $ROOT/packages/symbols/dist/cli.js --srctree $WORK/src --objtree $WORK/out2 check"
edit_script drivers/net/dummy.c '/* $RANDOM$RANDOM */'
cat > "$WORK/check2.sh" <<SH
$CHECK2 >/dev/null 2>&1 || true
SH
# Times check2.sh with $WORK/$1.sh run before each run (an edit made, or undone), then reports
# what one more such run scanned and predicted again.
timed_edit() {
  bash "$WORK/check2.sh"
  hyperfine -N --runs "$RUNS" --export-json "$WORK/$1.json" --command-name 'nx-symbols check' --prepare "bash $WORK/$1.sh" "bash $WORK/check2.sh" >/dev/null
  bash "$WORK/$1.sh"
  NX_KBUILD_STATS=1 $CHECK2 2>&1 >/dev/null | grep 'modules scanned\|modules predicted' | sed "s/^/last $1 run: /"
}
timed_edit edit
# An export that other modules use, removed and put back in turn (each run sees it move).
cat > "$WORK/export.sh" <<SH
f="$WORK/src/drivers/usb/storage/usb.c"
if grep -q '^EXPORT_SYMBOL_GPL(usb_stor_suspend);\$' "\$f"; then grep -v '^EXPORT_SYMBOL_GPL(usb_stor_suspend);\$' "\$f" > "\$f.new"
else { cat "\$f"; echo 'EXPORT_SYMBOL_GPL(usb_stor_suspend);'; } > "\$f.new"; fi
mv "\$f.new" "\$f"
SH
timed_edit export
# Writes $WORK/$1.sh, which puts the line $4 right after the line $3 of $2 (in the tree copy; at its
# top when $3 is empty), or takes it away again when it is there.
cat > "$WORK/toggle-after.sh" <<'SH'
awk -v after="$2" -v line="$3" '
  BEGIN { pending = after == "" }
  pending { pending = 0; if ($0 == line) next; print line }
  { print }
  after != "" && $0 == after { pending = 1 }
  END { if (pending) print line }' "$1" > "$1.new"
mv "$1.new" "$1"
SH
line_toggle() {
  printf 'bash %q %q %q %q\n' "$WORK/toggle-after.sh" "$WORK/src/$2" "$3" "$4" > "$WORK/$1.sh"
}
# A shared header: a comment line at the top of include/linux/netdevice.h.
line_toggle header include/linux/netdevice.h '' '/* nx-kbuild bench */'
timed_edit header
# A shared header's #includes: netdevice.h includes <linux/mii.h> too (first inside its include
# guard); then the same in a header few modules include, for a header few modules use.
line_toggle includes include/linux/netdevice.h '#define _LINUX_NETDEVICE_H' '#include <linux/mii.h>'
timed_edit includes
line_toggle includes-few include/linux/usb/storage.h '#define __LINUX_USB_STORAGE_H' '#include <linux/ti_wilink_st.h>'
timed_edit includes-few

node - "$WORK" <<'JS'
const fs = require('fs'), path = require('path');
const dir = process.argv[2];
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const files = new Map();
const result = (f, c) => {
  if (!files.has(f)) files.set(f, JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
  return files.get(f).results.find((r) => r.command === c);
};
const get = (f, c) => median(result(f, c).times);
// hyperfine keeps each command's mean CPU time (user and system, all threads), not each run's.
const cpu = (f, c) => result(f, c).user + result(f, c).system;
const makeN = get('cold.json', 'make -n -k all');
console.log('| whole-tree symbol check and queries, Debian config | nx-symbols median (s) | its CPU, mean (s) | make -n -k all median (s), for scale | make -n / nx-symbols |');
console.log('| --- | ---: | ---: | ---: | ---: |');
const row = (label, f, command = 'nx-symbols check') => {
  const t = get(f, command);
  console.log(`| ${label} | ${t.toFixed(2)} | ${cpu(f, command).toFixed(2)} | ${makeN.toFixed(2)} | ${(makeN / t).toFixed(2)}× |`);
};
row('cold (no memo, no kept result; probes cached)', 'cold.json');
row('warm, nothing changed (kept result)', 'warm.json');
row("query `why kvm-intel kvm` after a check (its kept answers)", 'why.json', 'nx-symbols why');
row("the same query, the check's result gone (kept scan and predictions)", 'why-kept-scan.json', 'nx-symbols why');
row('one source edited (kept modules and predictions)', 'edit.json');
row('one export moved (the modules that can reach it predicted again)', 'export.json');
row('one shared header edited (include/linux/netdevice.h)', 'header.json');
row('an #include added to or removed from a shared header (include/linux/netdevice.h)', 'includes.json');
row('the same in a header few modules include (include/linux/usb/storage.h)', 'includes-few.json');
JS
