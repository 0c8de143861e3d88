#!/usr/bin/env bash
# Checks the in-tree Nx build of modules and built-in directories whose objects need files their
# directory's rules make (the generate target) against kbuild, on Linux 6.12 with Debian's config:
# kbuild builds them first (`make <module>.ko <dir>/`) in an O= directory inside a hard-linked copy
# of the tree, its outputs are kept and removed, then Nx builds the same there. Every file Nx writes
# (generated sources and headers, host programs, objects, archives, .cmd files, .ko) must be
# byte-identical to kbuild's (a .ko with its BTF sections set aside: pahole's threads make them
# vary, see the README); a second Nx run must take every task from the cache.
# Usage: tools/intree-generate-check.sh   (about 10 minutes on 2 cores)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SRC="${NX_KBUILD_LINUX_SRC:-$ROOT/.cache/linux-source-6.12}"
KDIR="${NX_KBUILD_KERNEL_DIR:-/usr/src/linux-headers-6.12.117+deb12-amd64}"
# A host program of one source (raid6, radeon) and of several objects (speakup), awk, sed, perl,
# _shipped copies (aic7xxx, wanxl), the ASN.1 compiler `make prepare` builds (pkcs8, crypto/asymmetric_keys),
# SELinux's genheaders, a console font table (drivers/tty/vt), a header made by filechk from an
# assembler listing (kvm-intel and kvm-amd, with the kvm they use), a rule's own shell lines (a
# subshell and a pipeline: cfg80211's shipped-certs.c) and a cmd_ that is a group of commands
# (TOMOYO's builtin-policy.h).
MODULES="lib/raid6/raid6_pq drivers/gpu/drm/radeon/radeon drivers/scsi/scsi_mod drivers/scsi/aic7xxx/aic7xxx drivers/net/wan/wanxl
  arch/x86/crypto/poly1305-x86_64 drivers/accessibility/speakup/speakup crypto/asymmetric_keys/pkcs8_key_parser
  arch/x86/kvm/kvm arch/x86/kvm/kvm-intel arch/x86/kvm/kvm-amd net/wireless/cfg80211"
BUILTIN="drivers/tty/vt crypto/asymmetric_keys fs/unicode security/selinux security/tomoyo"
[ -f "$ROOT/packages/nx-kbuild/dist/index.js" ] || (cd "$ROOT" && npm run build >/dev/null)
WORK="$(mktemp -d /tmp/nx-kbuild-generate-XXXXXX)"
# Kept when a check fails, for a look at the differing files.
trap 'if [ "${failed:-1}" = 0 ]; then rm -rf "$WORK"; else echo "kept for inspection: $WORK" >&2; fi' EXIT
TREE="$WORK/linux"
cp -al "$SRC" "$TREE"
O="$TREE/.nx-kbuild-out/build"
mkdir -p "$O"
cp "$KDIR/.config" "$O/.config"
make -s -C "$TREE" O="$O" olddefconfig >/dev/null
make -s -j2 -C "$TREE" O="$O" prepare >/dev/null
cp "$KDIR/vmlinux" "$O/vmlinux"
# The directories compared: a directory inside another listed one is compared with it.
DIRS="$( { for m in $MODULES; do dirname "$m"; done; for d in $BUILTIN; do echo "$d"; done; } | sort -u | awk '{ for (i = 1; i <= n; i++) if (index($0, d[i] "/") == 1) next; d[++n] = $0; print }')"

start=$(date +%s)
make -s -j2 -C "$TREE" O="$O" KBUILD_MODPOST_WARN=1 $(for m in $MODULES; do echo "$m.ko"; done) $(for d in $BUILTIN; do echo "$d/"; done) >"$WORK/kbuild.log" 2>&1 \
  || { tail -20 "$WORK/kbuild.log" >&2; exit 1; }
echo "kbuild: $(($(date +%s) - start)) s"
# (Some directories are inside others: all are copied before any is removed.)
for d in $DIRS; do
  mkdir -p "$WORK/ref/$d"
  cp -a "$O/$d/." "$WORK/ref/$d/"
done
for d in $DIRS; do rm -rf "${O:?}/$d"; done
rm -f "$O/.module-common.o" "$O/..module-common.o.cmd"

list() { printf '"%s",' "$@" | sed 's/,$//'; }
echo "{ \"plugins\": [ { \"plugin\": \"nx-kbuild\", \"options\": { \"objtree\": \".nx-kbuild-out/build\", \"modules\": [$(list $MODULES)], \"builtin\": [$(list $BUILTIN)], \"modpostWarn\": true } } ] }" > "$TREE/nx.json"
echo 'NX_ISOLATE_PLUGINS=false' > "$TREE/.env"
ln -s "$ROOT/node_modules" "$TREE/node_modules"
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false FORCE_COLOR=0 NX_CACHE_DIRECTORY="$WORK/nx/cache" NX_WORKSPACE_DATA_DIRECTORY="$WORK/nx/data"
nx() { (cd "$TREE" && node "$ROOT/node_modules/nx/dist/bin/nx.js" "$@"); }
start=$(date +%s)
nx run-many -t link archive --parallel=2 --outputStyle=static >"$WORK/nx.log" 2>&1 || { tail -30 "$WORK/nx.log" >&2; exit 1; }
echo "nx: $(($(date +%s) - start)) s ($(grep -o 'targets link, archive for [0-9]* projects and [0-9]* tasks' "$WORK/nx.log" | head -1))"

same=0
failed=0
for d in $DIRS; do
  while IFS= read -r f; do
    if [ ! -f "$WORK/ref/$f" ]; then
      echo "not made by kbuild: $f"
      failed=1
      continue
    fi
    a="$WORK/ref/$f"
    b="$O/$f"
    if [[ $f == *.ko ]]; then
      objcopy --remove-section=.BTF --remove-section=.BTF_ids "$a" "$WORK/a.ko"
      objcopy --remove-section=.BTF --remove-section=.BTF_ids "$b" "$WORK/b.ko"
      a="$WORK/a.ko"
      b="$WORK/b.ko"
    fi
    if cmp -s "$a" "$b"; then same=$((same + 1)); else
      echo "differs from kbuild's: $f"
      failed=1
    fi
  # nx-kbuild's own files: its objects' depfiles (read by genksyms), modpost's per-module input and output.
  done < <(cd "$O" && find "$d" -type f ! -name '*.d' ! -name '*.symvers' ! -name '.*.modorder')
done
generated=$(grep -c '^> nx run .*:generate' "$WORK/nx.log" || true)
echo "files Nx wrote: $same byte-identical to kbuild's ($generated generate tasks)"
again=$(nx run-many -t link archive --parallel=2 --outputStyle=static 2>&1 | grep -o 'Cache: *[0-9]*/[0-9]* hit' || true)
echo "second run: $again"
[[ $again =~ ([0-9]+)/([0-9]+) ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] || failed=1
exit $failed
