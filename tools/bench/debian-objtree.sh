# Sourced by the whole-tree benchmarks: hyperfine, a build, and an O= directory configured with
# Debian's .config (olddefconfig) in a temporary $WORK, removed on exit. Sets SRC, KDIR, WORK, OUT.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SRC="${NX_KBUILD_LINUX_SRC:-$ROOT/.cache/linux-source-6.12}"
KDIR="${NX_KBUILD_KERNEL_DIR:-/usr/src/linux-headers-6.12.117+deb12-amd64}"
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
[ -f "$ROOT/packages/symbols/dist/cli.js" ] || (cd "$ROOT" && npm run build >/dev/null)
WORK="$(mktemp -d /tmp/nx-kbuild-bench-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
OUT="$WORK/out"
mkdir -p "$OUT"
cp "$KDIR/.config" "$OUT/.config"
make -s -C "$SRC" O="$OUT" olddefconfig >/dev/null
# make -n does not create the tool build directories its sub-makes cd into.
mkdir -p "$OUT/tools/objtool/libsubcmd" "$OUT/tools/bpf/resolve_btfids/libbpf" "$OUT/tools/bpf/resolve_btfids/libsubcmd"
export NX_KBUILD_SHELL_CACHE="$WORK/shell.json"

# A hard-linked copy of the tree in $WORK/src (an edit there must replace a file) with its own build
# directory $WORK/out2, configured as $OUT is.
copy_tree() {
  cp -al "$SRC" "$WORK/src"
  mkdir -p "$WORK/out2"
  cp "$OUT/.config" "$WORK/out2/.config"
  make -s -C "$WORK/src" O="$WORK/out2" olddefconfig >/dev/null
}

# Writes $WORK/edit.sh, run before each timed run after an edit: it gives $1 (relative to the copy)
# its original content plus the line $2, in which $RANDOM makes every run's edit new.
edit_script() {
  cp "$WORK/src/$1" "$WORK/edit.orig"
  cat > "$WORK/edit.sh" <<SH
{ cat "$WORK/edit.orig"; echo "$2"; } > "$WORK/src/$1.new" && mv "$WORK/src/$1.new" "$WORK/src/$1"
SH
}
