#!/usr/bin/env bash
# What `nx-symbols check` keeps, on the Linux 6.12 tree (Debian's config): a second check with
# nothing changed prints the same without scanning (its kept file is not rewritten); after three
# edits, only the modules that read the edited files are scanned again (written next to the kept
# scan, not the whole file again) and the new finding is reported; a fourth edit reads the kept scan
# back with those changes; a shared header's edit scans and predicts again only the modules that
# can depend on what it defines, and an #include added to it predicts again only the modules that
# include it; the output equals a check with nothing kept; a query (imports) answers from the
# check's result, or after an edit from the kept scan, and prints what it prints with nothing
# kept. The tree is a hard-linked copy; an edit replaces the file.
# Usage: tools/symbols-check-kept.sh
set -euo pipefail
TREE_COPY_NAME=nx-kbuild-kept-check
source "$(dirname "$0")/tree-copy.sh"
# The tree is named through a symbolic link, as a developer's ~/linux often is (kbuild's commands
# name its real path, where make -C ran).
ln -s "$WORK/src" "$WORK/linux"
CHECK=(node "$ROOT/packages/symbols/dist/cli.js" --srctree "$WORK/linux" --objtree "$OUT" check)
KEPT="$OUT/.nx-kbuild/symbols-check.json"
# A run's output without its statistics lines (what was scanned and predicted, when each phase ended).
findings() { grep -v 'modules scanned\|modules predicted\|^nx-symbols: .* at [0-9.]* s$' "$1"; }

"${CHECK[@]}" > "$WORK/first.txt" 2>&1 || { tail -5 "$WORK/first.txt" >&2; exit 1; }
echo "first check: $(tail -n 1 "$WORK/first.txt")"
before=$(stat -c %Y.%i "$KEPT")
"${CHECK[@]}" > "$WORK/second.txt" 2>&1
cmp -s "$WORK/first.txt" "$WORK/second.txt" || { echo 'the kept result differs from the first check' >&2; exit 1; }
[ "$(stat -c %Y.%i "$KEPT")" = "$before" ] || { echo 'the second check scanned again' >&2; exit 1; }
echo 'second check: the kept result, identical'

# Three edits: a source (an export of a symbol vmlinux already exports), a module's local header
# (a comment) and a source that stops exporting a symbol other modules use: the three modules that
# read them are scanned again, the 4,228 others kept; the modules that can reach a moved export
# are predicted again.
append drivers/net/dummy.c 'EXPORT_SYMBOL_GPL(netif_carrier_on);'
append drivers/net/ethernet/intel/e1000e/e1000.h '/* edited */'
grep -v '^EXPORT_SYMBOL_GPL(usb_stor_suspend);$' "$WORK/src/drivers/usb/storage/usb.c" > "$WORK/src/drivers/usb/storage/usb.c.new"
mv "$WORK/src/drivers/usb/storage/usb.c.new" "$WORK/src/drivers/usb/storage/usb.c"
if NX_KBUILD_STATS=1 "${CHECK[@]}" > "$WORK/third.txt" 2>&1; then echo 'the edit was not noticed (exit 0)' >&2; cat "$WORK/third.txt" >&2; exit 1; fi
grep 'modules scanned' "$WORK/third.txt"
grep 'modules predicted' "$WORK/third.txt"
grep 'netif_carrier_on' "$WORK/third.txt" | head -3
echo "after the edit: $(tail -n 1 "$WORK/third.txt")"

# The kept scan was not rewritten whole: the rescanned modules went next to it. A fourth edit (a
# comment in another module's source) reads it back (whole file plus changes): that module alone is
# scanned, the three rescanned before come from the changes, and the findings stay the same.
[ -f "$OUT/.nx-kbuild/symbols-scan.v8.changes" ] || { echo 'the kept scan was rewritten whole after three modules changed' >&2; exit 1; }
append drivers/net/ethernet/realtek/r8169_main.c '/* edited */'
NX_KBUILD_STATS=1 "${CHECK[@]}" > "$WORK/third-again.txt" 2>&1 || true
grep -q 'nx-symbols: 1 of [0-9]* modules scanned' "$WORK/third-again.txt" || { grep 'modules scanned' "$WORK/third-again.txt" >&2; echo 'expected one module scanned' >&2; exit 1; }
cmp -s <(findings "$WORK/third.txt") <(findings "$WORK/third-again.txt") || { echo 'the kept scan read back with its changes gives another result' >&2; exit 1; }
echo "another source edited: $(grep 'modules scanned' "$WORK/third-again.txt" | sed 's/^nx-symbols: //'), the same findings"

# A shared header edited: a line added at the top of include/linux/netdevice.h moves every
# definition in it. The header index is built again; only the modules whose scan looked up one of
# its macros (or read it whole) are scanned again, only the modules that can meet a name it defines
# are predicted again, and the findings stay.
{ printf '%s\n' '/* edited */'; cat "$WORK/src/include/linux/netdevice.h"; } > "$WORK/src/include/linux/netdevice.h.new"
mv "$WORK/src/include/linux/netdevice.h.new" "$WORK/src/include/linux/netdevice.h"
NX_KBUILD_STATS=1 "${CHECK[@]}" > "$WORK/shared.txt" 2>&1 || true
scanned=$(sed -n 's/^nx-symbols: \([0-9]*\) of [0-9]* modules scanned.*/\1/p' "$WORK/shared.txt")
predicted=$(sed -n 's/^nx-symbols: \([0-9]*\) of [0-9]* modules predicted.*/\1/p' "$WORK/shared.txt")
echo "shared header edited: $scanned modules scanned, $predicted predicted"
[ "$scanned" -lt 1000 ] && [ "$predicted" -lt 2000 ] || { echo 'a shared header edit scanned or predicted (nearly) every module again' >&2; exit 1; }
cmp -s <(findings "$WORK/third.txt") <(findings "$WORK/shared.txt") || { echo 'the shared header edit changed the findings' >&2; exit 1; }

# A shared header's #includes edited: include/linux/netdevice.h includes <linux/mii.h> too (first
# inside its include guard), whose names become visible to every module that includes netdevice.h,
# directly or through other headers. Only those modules are predicted again (the others see the
# same headers as before), and the findings stay.
awk '{ print } $0 == "#define _LINUX_NETDEVICE_H" { print "#include <linux/mii.h>" }' "$WORK/src/include/linux/netdevice.h" > "$WORK/src/include/linux/netdevice.h.new"
mv "$WORK/src/include/linux/netdevice.h.new" "$WORK/src/include/linux/netdevice.h"
grep -qx '#include <linux/mii.h>' "$WORK/src/include/linux/netdevice.h" || { echo 'netdevice.h has no include guard line to add the #include after' >&2; exit 1; }
NX_KBUILD_STATS=1 "${CHECK[@]}" > "$WORK/includes.txt" 2>&1 || true
predicted=$(sed -n 's/^nx-symbols: \([0-9]*\) of [0-9]* modules predicted.*/\1/p' "$WORK/includes.txt")
modules=$(sed -n 's/^nx-symbols: [0-9]* of \([0-9]*\) modules predicted.*/\1/p' "$WORK/includes.txt")
echo "a shared header's #includes edited: $(grep 'modules scanned' "$WORK/includes.txt" | sed 's/^nx-symbols: //'); $predicted of $modules predicted"
[ "$predicted" -lt "$modules" ] || { echo "an #include added to a shared header predicted every module again" >&2; exit 1; }
cmp -s <(findings "$WORK/third.txt") <(findings "$WORK/includes.txt") || { echo "the shared header's #include changed the findings" >&2; exit 1; }
cp "$OUT/.nx-kbuild/symbols-imports.v8" "$WORK/kept-imports.v8"

# The edited tree checked with nothing kept gives the same output.
rm -f "$OUT"/.nx-kbuild/symbols-*
"${CHECK[@]}" > "$WORK/fourth.txt" 2>&1 || true
findings "$WORK/shared.txt" | cmp -s - "$WORK/fourth.txt" || { echo 'the kept modules give another result than scanning everything:' >&2; diff <(findings "$WORK/shared.txt") "$WORK/fourth.txt" | head >&2; exit 1; }
echo 'after the edit, checked with nothing kept: identical'
# Every module's predicted imports, kept and predicted again where needed, against all predicted anew.
node -e '
const v8 = require("v8"), fs = require("fs");
const read = (f) => new Map(v8.deserialize(fs.readFileSync(f)).modules.map(([m, s]) => [m, JSON.stringify(s)]));
const kept = read(process.argv[1]), fresh = read(process.argv[2]);
const differ = [...fresh].filter(([m, s]) => kept.get(m) !== s).map(([m]) => m);
if (differ.length || kept.size !== fresh.size) { console.error(`predicted imports differ from predicting all anew: ${differ.slice(0, 5).join(" ")} (${differ.length})`); process.exit(1); }
console.log(`predicted imports: ${fresh.size} of ${fresh.size} modules identical to predicting all anew`);
' "$WORK/kept-imports.v8" "$OUT/.nx-kbuild/symbols-imports.v8"

# The queries use what the check kept. While its result holds, `imports` answers from it and reads
# no scan; after an edit, from the kept scan (the edited module alone scanned again); neither
# rewrites the kept predictions, and both print what a query prints with nothing kept.
QUERY=(node "$ROOT/packages/symbols/dist/cli.js" --srctree "$WORK/linux" --objtree "$OUT")
predictions_kept=$(stat -c %Y.%i "$OUT/.nx-kbuild/symbols-imports.v8")
NX_KBUILD_STATS=1 "${QUERY[@]}" imports iwlmvm > "$WORK/imports-answers.txt" 2> "$WORK/imports-answers.err"
grep -q "answered from the last check's kept answers" "$WORK/imports-answers.err" || { cat "$WORK/imports-answers.err" >&2; echo "a query right after the check did not answer from the check's kept answers" >&2; exit 1; }
grep -q '^drivers/net/wireless/intel/iwlwifi/iwlwifi	' "$WORK/imports-answers.txt" || { echo 'iwlmvm is not predicted to import from iwlwifi' >&2; exit 1; }
append drivers/net/dummy.c '/* queried */'
NX_KBUILD_STATS=1 "${QUERY[@]}" imports iwlmvm > "$WORK/imports-kept.txt" 2> "$WORK/imports-kept.err"
grep -q 'nx-symbols: 1 of [0-9]* modules scanned' "$WORK/imports-kept.err" || { cat "$WORK/imports-kept.err" >&2; echo 'a query after an edit did not scan the edited module alone' >&2; exit 1; }
[ "$(stat -c %Y.%i "$OUT/.nx-kbuild/symbols-imports.v8")" = "$predictions_kept" ] || { echo "a query rewrote the check's kept predictions" >&2; exit 1; }
rm -f "$OUT"/.nx-kbuild/symbols-*
"${QUERY[@]}" imports iwlmvm > "$WORK/imports-fresh.txt"
for f in answers kept; do
  cmp -s "$WORK/imports-$f.txt" "$WORK/imports-fresh.txt" || { echo "imports from the $f differ from a fresh scan's" >&2; diff "$WORK/imports-$f.txt" "$WORK/imports-fresh.txt" | head >&2; exit 1; }
done
echo "imports iwlmvm, from the check's answers and from the kept scan after an edit (1 module scanned): $(wc -l < "$WORK/imports-fresh.txt") lines, identical to a fresh scan's"
