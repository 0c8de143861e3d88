#!/usr/bin/env bash
# Installs what nx-kbuild needs on a Debian 12 machine, idempotently:
#  - the toolchain kbuild uses for external modules (gcc, make, binutils, libelf, pahole, kmod, ...)
#  - the Debian 6.12 kernel headers (they must live in /usr/src: their Makefile uses absolute paths)
#  - the 6.12 kernel source, unpacked into a gitignored cache for the engines' differential tests
# Safe to run again: it installs only what is missing and unpacks only once.
set -euo pipefail

KVER="6.12.117+deb12"
HEADERS="linux-headers-${KVER}-amd64"
SOURCE_PKG="linux-source-6.12"
# The source of the same release as the headers (and as Debian's built kernel the symbol checks
# compare with): the archive also holds newer 6.12 sources under the same package name.
SOURCE_VERSION="6.12.117-1~deb12u1"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CACHE="${NX_KBUILD_CACHE:-$ROOT/.cache}"

PKGS=(gcc make binutils libelf-dev dwarves kmod flex bison bc openssl libssl-dev xz-utils
      "$HEADERS" "$SOURCE_PKG")

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "$(dpkg-query -W -f='${Version}' "$SOURCE_PKG" 2>/dev/null)" != "$SOURCE_VERSION" ]; then
  missing=("${missing[@]/#$SOURCE_PKG/}")
  missing+=("$SOURCE_PKG=$SOURCE_VERSION")
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends --allow-downgrades ${missing[*]} >/dev/null
fi

test -f "/usr/src/${HEADERS}/Makefile" || { echo "setup: /usr/src/${HEADERS} is missing" >&2; exit 1; }

# The kernel source tarball, unpacked once into the cache.
SRC_DIR="$CACHE/linux-source-6.12"
STAMP="$CACHE/linux-source-6.12.version"
if [ ! -f "$SRC_DIR/Makefile" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$SOURCE_VERSION" ]; then
  tarball=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n1)
  test -n "$tarball" || { echo "setup: linux-source-6.12 tarball not found in /usr/src" >&2; exit 1; }
  echo "setup: unpacking $tarball into $CACHE"
  mkdir -p "$CACHE"
  tmp="$CACHE/.unpack.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  tar -xf "$tarball" -C "$tmp"
  rm -rf "$SRC_DIR"
  mv "$tmp/linux-source-6.12" "$SRC_DIR"
  rmdir "$tmp"
  echo "$SOURCE_VERSION" > "$STAMP"
fi
# Debian's packaging appends "/*" and "!/debian/" to the top .gitignore (its own repository holds
# only debian/). Tools that honour .gitignore, Nx among them, would see no kernel file at all; the
# tree is used as a kernel tree, so those two lines go (everything else is the kernel's own).
if grep -qx '/\*' "$SRC_DIR/.gitignore"; then
  sed -i -e '/^# Debian packaging: ignore everything at the top level/,/^!\/debian\/$/d' "$SRC_DIR/.gitignore"
  sed -i -e '${/^#$/d}' "$SRC_DIR/.gitignore"
fi
echo "setup: ok (headers /usr/src/${HEADERS}, source $SRC_DIR)"
