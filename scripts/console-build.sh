#!/usr/bin/env bash
# `make console`: the web console (console/) from its lockfile, checked and built
# into console/dist, which coc-local embeds when it is next compiled.
# CONSOLE_SKIP_CHECKS=1 builds without the type check, lint and unit tests (make run).
set -euo pipefail
cd "$(dirname "$0")/../console"

# `npm ci` again only when the lockfile changed since the last install.
stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  npm ci --no-audit --no-fund
  touch "$stamp"
fi
if [ "${CONSOLE_SKIP_CHECKS:-0}" != 1 ]; then
  npm run -s typecheck
  npm run -s lint
  npm run -s test
fi
npm run -s build
