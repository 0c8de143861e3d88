#!/usr/bin/env bash
# `nx-symbols nsdeps` on the Linux 6.12 tree (Debian's config), as kbuild's `make nsdeps` would:
# two modules lose the MODULE_IMPORT_NS line that follows their MODULE_LICENSE (ums-karma's
# USB_STORAGE, iwlmvm's IWLWIFI); the check reports both missing imports with modpost's wording;
# nsdeps puts each line back where it was (the sources byte-identical to the originals); a second
# nsdeps changes nothing; the check is clean again. The tree is a hard-linked copy; nsdeps, like
# the edits, replaces a file whole (a hard link to the shared tree is never written through).
# Usage: tools/nsdeps-intree-check.sh
set -euo pipefail
TREE_COPY_NAME=nx-kbuild-nsdeps-check
source "$(dirname "$0")/tree-copy.sh"
SYMBOLS=(node "$ROOT/packages/symbols/dist/cli.js" --srctree "$WORK/src" --objtree "$OUT")
EDITED=(drivers/usb/storage/karma.c drivers/net/wireless/intel/iwlwifi/mvm/ops.c)

# Drops the first MODULE_IMPORT_NS line of $1, replacing the file.
drop_import() {
  awk '!done && /^MODULE_IMPORT_NS\(/ { done = 1; next } { print }' "$WORK/src/$1" > "$WORK/src/$1.new"
  mv "$WORK/src/$1.new" "$WORK/src/$1"
}
for f in "${EDITED[@]}"; do drop_import "$f"; done

if "${SYMBOLS[@]}" check > "$WORK/check1.txt" 2>&1; then echo 'the check missed the dropped imports' >&2; tail -3 "$WORK/check1.txt" >&2; exit 1; fi
echo "check with the imports dropped: $(tail -n 1 "$WORK/check1.txt")"
for m in ums-karma:USB_STORAGE iwlmvm:IWLWIFI; do
  echo "  ${m%%:*}: $(grep -c "module ${m%%:*} uses symbol .* from namespace ${m#*:}, but does not import it" "$WORK/check1.txt") symbols from ${m#*:} used without importing it"
done

"${SYMBOLS[@]}" nsdeps > "$WORK/nsdeps1.txt"
sed 's/^/nsdeps: /' "$WORK/nsdeps1.txt"
for f in "${EDITED[@]}"; do
  cmp -s "$SRC/$f" "$WORK/src/$f" || { echo "$f differs from the original after nsdeps:" >&2; diff "$SRC/$f" "$WORK/src/$f" >&2 || true; exit 1; }
done
echo 'the edited sources are byte-identical to the originals again'

"${SYMBOLS[@]}" nsdeps > "$WORK/nsdeps2.txt"
echo "second nsdeps: $(cat "$WORK/nsdeps2.txt")"
"${SYMBOLS[@]}" check > "$WORK/check2.txt" 2>&1 || { echo 'the check still fails after nsdeps' >&2; tail -5 "$WORK/check2.txt" >&2; exit 1; }
echo "check after nsdeps: $(tail -n 1 "$WORK/check2.txt")"
