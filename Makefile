# The project's commands. On a fresh machine, `make run` and `make test` are all you need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

COC_LISTEN ?= 127.0.0.1:8080
COC_DATA_DIR ?= .coc-data

.PHONY: help run console console-test test credential bench check fmt lint template tools aws-local-start aws-local-stop sdk-test lambda-tools watch lambda-build deploy clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-16s %s\n", $$1, $$2}'

run: ## Build the console and serve it (/console/) and every route on the embedded store (COC_LISTEN, COC_DATA_DIR)
	CONSOLE_SKIP_CHECKS=1 scripts/console-build.sh
	COC_LISTEN=$(COC_LISTEN) COC_DATA_DIR=$(COC_DATA_DIR) cargo run --release -p coc-local

console: ## Build the web console (npm ci, type check, lint, unit tests, vite build) into console/dist for coc-local to embed
	scripts/console-build.sh

test: ## Everything CI runs: fmt, clippy, template validation, all Rust tests (SQLite + DynamoDB Local + moto SQS), SDK tests
	scripts/test.sh

fmt: ## Format the code
	cargo fmt --all

lint: ## Clippy with warnings as errors
	cargo clippy --workspace --all-targets --all-features -- -D warnings

tools: ## Install the test tools into .tools/ (Python venv, DynamoDB Local)
	scripts/install-tools.sh

template: tools ## Validate template.yaml offline (cfn-lint runs the SAM transform)
	.tools/venv/bin/cfn-lint template.yaml

aws-local-start: tools ## Start DynamoDB Local and moto (SQS); source .tools/run/env to use them
	scripts/aws-local.sh start

aws-local-stop: ## Stop them
	scripts/aws-local.sh stop

sdk-test: tools ## Only the official-SDK tests against a fresh local server
	cargo build -p coc-local -p coc-admin -p coc-agent
	COC_LOCAL_BIN=target/debug/coc-local COC_ADMIN_BIN=target/debug/coc-admin COC_AGENT_BIN=target/debug/coc-agent .tools/venv/bin/pytest -q tests/sdk

console-test: tools console ## Only the console's browser tests (chromium + Selenium) against a fresh local server and agents
	cargo build -p coc-local -p coc-admin -p coc-agent
	COC_LOCAL_BIN=target/debug/coc-local COC_ADMIN_BIN=target/debug/coc-admin COC_AGENT_BIN=target/debug/coc-agent .tools/venv/bin/pytest -q tests/console

BENCH_PARTS ?=
bench: ## COC vs Alertmanager/Ansible and its own baselines (BENCH_PARTS=alarms fanout lists idle batches lambda patch); writes target/bench/results.md
	scripts/install-bench-tools.sh
	cargo build --release -q -p coc-local -p coc-bench
	$(if $(or $(filter lambda,$(BENCH_PARTS)),$(if $(BENCH_PARTS),,all)),scripts/bench-lambda-build.sh)
	cargo run --release -q -p coc-bench -- $(BENCH_PARTS)

lambda-tools: tools ## The Lambda build tools (cargo-lambda, zig, SAM CLI; installed by `make tools`)

watch: lambda-tools ## Run the functions one by one with cargo lambda watch (embedded store in COC_DATA_DIR)
	COC_DATA_DIR=$(abspath $(COC_DATA_DIR)) PATH="$(abspath .tools/venv/bin):$$PATH" cargo lambda watch --features coc-runtime/embedded

lambda-build: lambda-tools ## Build every function of template.yaml for Lambda (arm64) with sam build; checks each bootstrap
	scripts/lambda-build.sh

deploy: lambda-build ## Build and deploy with AWS SAM (needs AWS credentials)
	.tools/venv/bin/sam deploy --guided

credential: ## Create an access key: make credential PROJECT=<project_id> [USER_ID=<user id>]
	COC_DATA_DIR=$(COC_DATA_DIR) cargo run -q -p coc-admin -- create-credential --project-id $(PROJECT) --user-id $(or $(USER_ID),admin)

clean: ## Remove build output, tools and local data
	cargo clean
	rm -rf .tools .coc-data .aws-sam console/dist console/node_modules
