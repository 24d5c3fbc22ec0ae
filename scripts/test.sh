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

step "server, CLI and agent for the process tests"
bins_dir="${CARGO_TARGET_DIR:-target}/debug"
export COC_LOCAL_BIN="$bins_dir/coc-local" COC_ADMIN_BIN="$bins_dir/coc-admin" COC_AGENT_BIN="$bins_dir/coc-agent"
cargo build -p coc-local -p coc-admin -p coc-agent

step "official SDK against the local server, on the embedded store"
COC_SDK_BACKEND=embedded .tools/venv/bin/pytest -q tests/sdk

step "official SDK against the local server, on DynamoDB Local and moto SQS (a fresh table and queue)"
COC_SDK_BACKEND=aws .tools/venv/bin/pytest -q tests/sdk

step "one flow through the functions under cargo lambda watch"
make -s lambda-tools
# The functions the flow calls; built now, cargo lambda watch finds them fresh.
cargo build -p issue-token -p create-script -p register-agent -p agent-heartbeat -p poll-agent-jobs \
  -p report-agent-job -p list-resources -p execute-script -p get-script-job -p get-script-job-batch
COC_CARGO_LAMBDA=.tools/venv/bin/cargo-lambda .tools/venv/bin/pytest -q tests/lambda
