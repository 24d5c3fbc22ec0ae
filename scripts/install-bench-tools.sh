#!/usr/bin/env bash
# Installs the peers `make bench` compares against (idempotent):
# - Prometheus Alertmanager from Debian (`prometheus-alertmanager`), for alarm intake;
# - ansible-core from PyPI into its own venv (.tools/bench-venv), for script fan-out;
# - zip from Debian, to size the Lambda deployment packages.
# Only the binaries are used: the bench starts and stops them itself.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=.tools
mkdir -p "$TOOLS"

debian_packages=()
[ -x /usr/bin/prometheus-alertmanager ] || debian_packages+=(prometheus-alertmanager)
command -v zip >/dev/null 2>&1 || debian_packages+=(zip)
if [ ${#debian_packages[@]} -gt 0 ]; then
  echo "installing ${debian_packages[*]} from Debian" >&2
  # The package's own service is not used: the bench starts its instance on a free port.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${debian_packages[@]}" >/dev/null
fi

ansible_packages=("ansible-core>=2.17,<2.20")
stamp="$TOOLS/bench-venv/.installed-$(printf '%s\n' "${ansible_packages[@]}" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  python3 -m venv "$TOOLS/bench-venv"
  "$TOOLS/bench-venv/bin/pip" install --quiet --disable-pip-version-check "${ansible_packages[@]}"
  touch "$stamp"
fi
