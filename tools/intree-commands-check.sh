#!/usr/bin/env bash
# Differential check of the kbuild evaluator against kbuild's own dry run on the Linux 6.12 tree:
# configures an O= directory (Debian's config through olddefconfig, or an x86_64 target such as
# defconfig/allmodconfig), runs `make -n -k all` there (about 30 s), runs nx-kbuild-make, and
# compares every module's member list (in order), the modules.order order, and each object's
# compile command (savedcmd_ of its .cmd file) byte for byte, and the command of each step that makes
# a file the objects need (generated sources, headers, host programs; --made-files) where the dry
# run reaches it.
# debian-inner: Debian's config with the build directory directly inside (a hard-linked copy of) the
# tree, `O=build`, where kbuild spells $(srctree) `..` and names sources relative to the build directory.
# Usage: tools/intree-commands-check.sh [debian|debian-inner|defconfig|allmodconfig|...]   (default: debian)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="${NX_KBUILD_LINUX_SRC:-$ROOT/.cache/linux-source-6.12}"
KDIR="${NX_KBUILD_KERNEL_DIR:-/usr/src/linux-headers-6.12.117+deb12-amd64}"
TARGET="${1:-debian}"
[ -f "$ROOT/packages/kbuild-make/dist/cli.js" ] || (cd "$ROOT" && npm run build >/dev/null)

# The temporary directory is removed as a whole: debian-inner moves OUT inside the tree copy.
TMP="$(mktemp -d /tmp/nx-kbuild-commands-XXXXXX)"
trap 'rm -rf "$TMP"' EXIT
OUT="$TMP"
if [ "$TARGET" = debian-inner ]; then
  cp -al "$SRC" "$OUT/src"
  SRC="$OUT/src"
  OUT="$SRC/build"
  mkdir "$OUT"
  TARGET=debian
fi
if [ "$TARGET" = debian ]; then
  cp "$KDIR/.config" "$OUT/.config"
  make -s -C "$SRC" O="$OUT" olddefconfig >/dev/null
else
  make -s -C "$SRC" O="$OUT" "$TARGET" >/dev/null
fi
# -n does not create the tool build directories its sub-makes cd into.
mkdir -p "$OUT/tools/objtool/libsubcmd" "$OUT/tools/bpf/resolve_btfids/libbpf" "$OUT/tools/bpf/resolve_btfids/libsubcmd"
start=$(date +%s.%N)
make -n -k -C "$SRC" O="$OUT" all > "$OUT/dry-run.txt" 2>/dev/null || true
echo "make -n -k all: $(echo "$(date +%s.%N) - $start" | bc | xargs printf '%.1f') s"
export NX_KBUILD_SHELL_CACHE="${NX_KBUILD_SHELL_CACHE:-$OUT/shell-cache.json}"
node "$ROOT/packages/kbuild-make/dist/cli.js" --srctree "$SRC" --objtree "$OUT" --commands=ours.json --modules-order=ours.order --archives=archives.json --made-files=made.json 2>"$OUT/ours.err" \
  || { grep -v ": warning: " "$OUT/ours.err" >&2; exit 1; }
node "$ROOT/tools/compare-dry-run.js" "$OUT/dry-run.txt" "$OUT/ours.json" "$OUT/ours.order" "$OUT/archives.json"
node "$ROOT/tools/compare-made-files.js" "$OUT/dry-run.txt" "$OUT/made.json"
