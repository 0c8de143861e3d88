#!/usr/bin/env bash
# Differential check of the kbuild evaluator's memo on the Linux 6.12 tree (Debian's config):
# after each edit of a kbuild Makefile or source directory, an evaluation that reuses the memo
# must give exactly what evaluating every directory gives (--no-memo): every object's command
# (--commands JSON) and modules.order, byte for byte. The tree is a hard-linked copy; each edit
# replaces a file (temp file + rename), so the shared tree is never written.
# Usage: tools/intree-incremental-check.sh
set -euo pipefail
TREE_COPY_NAME=nx-kbuild-incremental
source "$(dirname "$0")/tree-copy.sh"
CLI=(node "$ROOT/packages/kbuild-make/dist/cli.js" --srctree "$WORK/src" --objtree "$OUT")


# Evaluates with the memo (timed) and without; fails unless both give the same bytes.
check() {
  local label="$1" start end
  start=$(date +%s%N)
  NX_KBUILD_TIMING=1 "${CLI[@]}" --commands=memo.json --modules-order=memo.order >/dev/null 2>"$WORK/memo.err" \
    || { grep -v ": warning: " "$WORK/memo.err" >&2; exit 1; }
  end=$(date +%s%N)
  "${CLI[@]}" --no-memo --commands=full.json --modules-order=full.order >/dev/null 2>/dev/null
  cmp -s "$OUT/memo.json" "$OUT/full.json" || { echo "$label: commands differ from a full evaluation" >&2; exit 1; }
  cmp -s "$OUT/memo.order" "$OUT/full.order" || { echo "$label: modules.order differs from a full evaluation" >&2; exit 1; }
  printf '%s: identical to a full evaluation (%s; %d ms)\n' "$label" "$(grep -o '[0-9]* directories evaluated, [0-9]* from the memo' "$WORK/memo.err" || echo 'every directory evaluated')" $(((end - start) / 1000000))
}

# The first run in a fresh build directory makes kbuild's output directories (Makefile.build's
# mkdir), which changes listings it looked at: the second one evaluates again and fills the memo.
"${CLI[@]}" >/dev/null 2>&1
check 'second run'
check 'no change'
append drivers/net/ethernet/intel/e1000e/Makefile 'ccflags-y += -DNX_INCREMENTAL_FLAG'
check 'ccflags-y added to one module directory'
grep -q NX_INCREMENTAL_FLAG "$OUT/memo.json" || { echo 'the added flag is in no command' >&2; exit 1; }
printf '// SPDX-License-Identifier: GPL-2.0\nint nx_incremental_member;\n' > "$WORK/src/fs/ext4/nx_incremental.c"
append fs/ext4/Makefile 'ext4-y += nx_incremental.o'
check 'an object added to a composite module'
grep -q 'fs/ext4/nx_incremental.o' "$OUT/memo.json" || { echo 'the added object is missing' >&2; exit 1; }
append drivers/net/Makefile 'subdir-ccflags-y += -DNX_INCREMENTAL_SUBDIR'
check 'subdir-ccflags-y added to drivers/net (every directory under it)'
printf '// SPDX-License-Identifier: GPL-2.0\nint nx_incremental_module;\n' > "$WORK/src/drivers/net/nx_incremental.c"
append drivers/net/Makefile 'obj-m += nx_incremental.o'
check 'a module added'
grep -q '^drivers/net/nx_incremental.o$' "$OUT/memo.order" || { echo 'the added module is not in modules.order' >&2; exit 1; }
# A source named by a Makefile removed: the memo must not hide the error.
rm "$WORK/src/fs/ext4/nx_incremental.c"
if "${CLI[@]}" >/dev/null 2>"$WORK/err.txt"; then echo 'a missing source was not reported' >&2; exit 1; fi
grep -q 'fs/ext4/Makefile:[0-9]*: no source for nx_incremental.o' "$WORK/err.txt" || { cat "$WORK/err.txt" >&2; exit 1; }
echo 'a source removed: reported with the Makefile line, as without the memo'
