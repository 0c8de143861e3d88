#!/usr/bin/env bash
# Builds the bundled example module tree (examples/modtree) as cached Nx tasks, from a fresh clone.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-debian.sh
[ -d node_modules/nx ] || npm install --no-audit --no-fund
npm run build
cd examples/modtree
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
echo "== the tree's configuration (./Kconfig with the choices in ./config)"
node ../../packages/nx-kbuild/dist/cli/tree-config.js .
echo "== projects (one per configured module; exm_debug is switched off in ./config)"
npx nx show projects
echo "== build: nx run-many -t link"
npx nx run-many -t link --outputStyle=static
echo "== again: everything comes from the cache"
npx nx run-many -t link --outputStyle=static | tail -n 6
echo "== what the modules say"
for ko in core/exm_core.ko bus/exm_bus.ko stats/exm_stats.ko drivers/exm_sensor.ko drivers/exm_led.ko drivers/exm_relay.ko; do
  printf '%-24s depends=%-18s import_ns=%s\n' "$ko" "$(/sbin/modinfo -F depends "$ko")" "$(/sbin/modinfo -F import_ns "$ko" | paste -sd, -)"
done
echo "== Module.symvers"
cat Module.symvers
