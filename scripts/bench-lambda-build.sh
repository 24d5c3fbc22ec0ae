#!/usr/bin/env bash
# The Lambda part of `make bench`: every function of functions/ and
# bench/lambda-baseline, built with the settings of `make lambda-build`
# (scripts/lambda-profile.sh), each package on its own so that it gets only its
# own features, as SAM builds them, but for this machine's architecture: the
# bench starts them under its Runtime API emulator, and the arm64 bootstraps of
# `sam build` do not run here. Writes <dir>/<binary>/bootstrap, dir being
# COC_BENCH_LAMBDA_DIR (default target/bench-lambda); builds in its own target
# directory (target/bench-lambda-build), so the profile settings do not
# rebuild the release build of the local server.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lambda-profile.sh
source scripts/lambda-profile.sh

target="${CARGO_TARGET_DIR:-target}"
out="${COC_BENCH_LAMBDA_DIR:-$target/bench-lambda}"
build_dir="$target/bench-lambda-build"
packages=(lambda-baseline)
for manifest in functions/*/Cargo.toml; do
  packages+=("$(basename "$(dirname "$manifest")")")
done
for package in "${packages[@]}"; do
  CARGO_TARGET_DIR="$build_dir" cargo build --release -q -p "$package"
  mkdir -p "$out/$package"
  cp "$build_dir/release/$package" "$out/$package/bootstrap"
done
echo "${#packages[@]} bootstraps in $out" >&2
