#!/usr/bin/env bash
# `make test`: what CI runs on a fresh machine. Installs its tools, starts the
# local DynamoDB and SQS servers, runs every check, and stops the servers.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step says when it starts (minutes:seconds since the start), so a slow one shows in CI's log.
step() { printf '\n== [%02d:%02d] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*"; }

step "tools"
scripts/install-tools.sh

step "format"
cargo fmt --all -- --check

# Before clippy and the Rust build, so that coc-local embeds this build of the console.
step "console (npm ci, type check, lint, unit tests, build)"
scripts/console-build.sh

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
# scripts/install-tools.sh installs the package tools the patch tests use: never skip them here.
COC_REQUIRE_PATCH_TOOLS=1 cargo test --workspace --all-features

step "server, CLI and agent for the process tests"
bins_dir="${CARGO_TARGET_DIR:-target}/debug"
export COC_LOCAL_BIN="$bins_dir/coc-local" COC_ADMIN_BIN="$bins_dir/coc-admin" COC_AGENT_BIN="$bins_dir/coc-agent"
cargo build -p coc-local -p coc-admin -p coc-agent

step "official SDK against the local server, on the embedded store"
COC_SDK_BACKEND=embedded .tools/venv/bin/pytest -q tests/sdk

step "official SDK against the local server, on DynamoDB Local and moto SQS (a fresh table and queue)"
COC_SDK_BACKEND=aws .tools/venv/bin/pytest -q tests/sdk

step "the console in a browser (chromium + Selenium, with real agents)"
COC_SCREENSHOT_DIR="${CARGO_TARGET_DIR:-target}/console-screenshots" .tools/venv/bin/pytest -q tests/console

step "one flow through the functions under cargo lambda watch"
make -s lambda-tools
# The functions the flow calls, each built as cargo lambda watch builds it (its own
# features plus the embedded store), so that watch finds them fresh.
for function in issue-token create-script register-agent agent-heartbeat poll-agent-jobs \
  report-agent-job list-resources execute-script get-script-job get-script-job-batch; do
  cargo build -q -p "$function" --features coc-runtime/embedded
done
COC_CARGO_LAMBDA=.tools/venv/bin/cargo-lambda .tools/venv/bin/pytest -q tests/lambda

step "Lambda build: sam build of template.yaml (arm64), and an artifact for every function"
scripts/lambda-build.sh

step "done"
