# shellcheck shell=bash
# The Lambda release settings, sourced by scripts/lambda-build.sh (sam build,
# arm64) and scripts/bench-lambda-build.sh (the same build for this machine, for
# `make bench`). SAM's builder cannot pass `--profile`, so they are given to
# cargo here instead of in [profile.release], which stays as it is for the
# local server (`make run`, `make bench`):
# - no LTO and 16 codegen units: 31 functions linking one shared crate with
#   thin LTO took 40 minutes on 2 cores; without it each function only links;
# - opt-level "s": smaller bootstraps (less to load at a cold start) for code
#   that mostly waits on DynamoDB;
# - panic = abort: no unwinding tables; a panic ends the invocation either way
#   (the runtime restarts the process), and no code here catches panics;
# - strip: no symbols in the bootstrap.
export CARGO_PROFILE_RELEASE_LTO=false
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
export CARGO_PROFILE_RELEASE_OPT_LEVEL=s
export CARGO_PROFILE_RELEASE_PANIC=abort
export CARGO_PROFILE_RELEASE_STRIP=symbols
