# Sourced by the checks that edit the Linux 6.12 tree: a hard-linked copy of it in a temporary
# $WORK (removed on exit; an edit must replace a file, never write into it, so the shared tree is
# never changed) with a build directory configured with Debian's .config (olddefconfig).
# Takes TREE_COPY_NAME (the temporary directory's prefix); sets ROOT, SRC, KDIR, WORK, OUT.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="${NX_KBUILD_LINUX_SRC:-$ROOT/.cache/linux-source-6.12}"
KDIR="${NX_KBUILD_KERNEL_DIR:-/usr/src/linux-headers-6.12.117+deb12-amd64}"
[ -f "$ROOT/packages/symbols/dist/cli.js" ] || (cd "$ROOT" && npm run build >/dev/null)
WORK="$(mktemp -d "/tmp/${TREE_COPY_NAME:-nx-kbuild-tree}-XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
cp -al "$SRC" "$WORK/src"
OUT="$WORK/out"
mkdir -p "$OUT"
cp "$KDIR/.config" "$OUT/.config"
make -s -C "$WORK/src" O="$OUT" olddefconfig >/dev/null
export NX_KBUILD_SHELL_CACHE="${NX_KBUILD_SHELL_CACHE:-$WORK/shell-cache.json}"

# Replaces $1 (relative to the tree) with its content plus the line $2, breaking the hard link.
append() { { cat "$WORK/src/$1"; printf '%s\n' "$2"; } > "$WORK/src/$1.new"; mv "$WORK/src/$1.new" "$WORK/src/$1"; }
