#!/usr/bin/env bash
# The kept result of `nx-symbols check` on the Linux 6.12 tree (Debian's config): a second check
# with nothing changed prints the same without scanning (its kept file is not rewritten); after one
# source is edited (an export of a symbol vmlinux already exports), the tree is scanned again and
# the new finding reported. The tree is a hard-linked copy; the edit replaces the file.
# Usage: tools/symbols-check-kept.sh
set -euo pipefail
TREE_COPY_NAME=nx-kbuild-kept-check
source "$(dirname "$0")/tree-copy.sh"
CHECK=(node "$ROOT/packages/symbols/dist/cli.js" --srctree "$WORK/src" --objtree "$OUT" check)
KEPT="$OUT/.nx-kbuild/symbols-check.json"

"${CHECK[@]}" > "$WORK/first.txt" 2>&1 || { tail -5 "$WORK/first.txt" >&2; exit 1; }
echo "first check: $(tail -n 1 "$WORK/first.txt")"
before=$(stat -c %Y.%i "$KEPT")
"${CHECK[@]}" > "$WORK/second.txt" 2>&1
cmp -s "$WORK/first.txt" "$WORK/second.txt" || { echo 'the kept result differs from the first check' >&2; exit 1; }
[ "$(stat -c %Y.%i "$KEPT")" = "$before" ] || { echo 'the second check scanned again' >&2; exit 1; }
echo 'second check: the kept result, identical'

F=drivers/net/dummy.c
{ cat "$WORK/src/$F"; echo 'EXPORT_SYMBOL_GPL(netif_carrier_on);'; } > "$WORK/src/$F.new"
mv "$WORK/src/$F.new" "$WORK/src/$F"
if "${CHECK[@]}" > "$WORK/third.txt" 2>&1; then echo 'the edit was not noticed (exit 0)' >&2; cat "$WORK/third.txt" >&2; exit 1; fi
grep 'netif_carrier_on' "$WORK/third.txt" | head -3
echo "after the edit: $(tail -n 1 "$WORK/third.txt")"
