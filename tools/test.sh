#!/usr/bin/env bash
# The project's test command, from a fresh clone: installs what it needs, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup-debian.sh
# npm ci would refuse the lock: the registry here serves only the Linux builds of optional packages.
npm install --no-audit --no-fund
npm run build
mkdir -p .cache
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest-report.json || status=$?
node -e '
  const r = require("./.cache/vitest-report.json");
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (r.numPendingTests ? `, ${r.numPendingTests} skipped` : ""));
' || true
exit "$status"
