#!/usr/bin/env bash
# `make test`: what CI runs on a fresh machine. Installs its tools, starts the
# local DynamoDB and SQS servers, runs every check, and stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "tools"
scripts/install-tools.sh

step "format"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets --all-features -- -D warnings

step "template (cfn-lint after the SAM transform)"
.tools/venv/bin/cfn-lint template.yaml

step "local DynamoDB and SQS"
trap 'scripts/aws-local.sh stop' EXIT
scripts/aws-local.sh start
# shellcheck disable=SC1091
source .tools/run/env
export COC_REQUIRE_AWS_LOCAL=1

step "Rust tests"
cargo test --workspace --all-features

step "official SDK against the local server"
cargo build -p coc-local -p coc-admin -p coc-agent
COC_LOCAL_BIN=target/debug/coc-local COC_ADMIN_BIN=target/debug/coc-admin COC_AGENT_BIN=target/debug/coc-agent .tools/venv/bin/pytest -q tests/sdk

step "Lambda build: sam build of template.yaml (arm64), and an artifact for every function"
scripts/lambda-build.sh
