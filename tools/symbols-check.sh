#!/usr/bin/env bash
# Whole-tree check of the symbol scanner (issue 5): evaluates the Linux 6.12 tree with Debian's
# configuration (nx-kbuild-make: every object, its module and its compile command), scans each
# object's source as that command compiles it, and compares the exports found with Debian's own
# Module.symvers (symbol, module, license, namespace), reporting every miss by cause.
# Usage: tools/symbols-check.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="${NX_KBUILD_LINUX_SRC:-$ROOT/.cache/linux-source-6.12}"
KDIR="${NX_KBUILD_KERNEL_DIR:-/usr/src/linux-headers-6.12.117+deb12-amd64}"
[ -f "$ROOT/packages/symbols/dist/index.js" ] || (cd "$ROOT" && npm run build >/dev/null)

OUT="$(mktemp -d /tmp/nx-kbuild-symbols-XXXXXX)"
trap 'rm -rf "$OUT"' EXIT
cp "$KDIR/.config" "$OUT/.config"
make -s -C "$SRC" O="$OUT" olddefconfig >/dev/null
node "$ROOT/packages/kbuild-make/dist/cli.js" --srctree "$SRC" --objtree "$OUT" --commands=commands.json >/dev/null
node "$ROOT/tools/symbols-vs-symvers.js" "$SRC" "$OUT" "$KDIR/Module.symvers"
