#!/usr/bin/env bash
# `make lambda-build`: every function of template.yaml, cross-built for Lambda
# (arm64, linked with zig) by `sam build` itself, so that what is built and
# checked is the deploy path. SAM's rust-cargolambda builder runs
# `cargo lambda build --release --arm64 --bin <Binary>` in each function's
# package (its CodeUri), all in one target directory (CARGO_TARGET_DIR, default
# target/): the dependencies and coc-shared are compiled once, coc-runtime once per feature set,
# and each function only links. Bootstraps land in .aws-sam/build/<Function>/
# and <target dir>/lambda/<binary>/. Extra arguments go to `sam build`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.tools/venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0

# The Lambda release settings (no LTO, opt-level s, panic abort, stripped).
# shellcheck source=scripts/lambda-profile.sh
source scripts/lambda-profile.sh

# Warm-up: the functions built by cargo itself, one invocation per set of
# coc-runtime features (functions with the same set have the same dependency
# graph, so building them together changes nothing they link), so that cargo
# links them two at a time. SAM's builder then runs the very same builds (the
# same cargo-lambda flags and profile), finds them fresh and copies each
# bootstrap: what it builds and checks is unchanged.
python3 - <<'GROUPS' | while read -r packages; do
import collections, glob, os, re
groups = collections.defaultdict(list)
for manifest in sorted(glob.glob("functions/*/Cargo.toml")):
    match = re.search(r"^coc-runtime = \{[^}]*features = (\[[^]]*\])", open(manifest).read(), re.M)
    groups[match.group(1) if match else ""].append(os.path.basename(os.path.dirname(manifest)))
for functions in groups.values():
    print(" ".join(f"-p {f}" for f in functions))
GROUPS
  # shellcheck disable=SC2086 # one -p per package
  cargo lambda build --release --arm64 $packages
done

# In parallel: the builds it starts are fresh, so each holds cargo's lock only for a moment.
sam build --parallel --template-file template.yaml "$@"

# Every function of the template must have its artifact: an arm64 executable
# `bootstrap` in .aws-sam/build/<Function>/. Prints each one's size, plain and
# gzipped (what a deployment package costs).
python3 - <<'PY'
import gzip, os, re, sys

text = open("template.yaml").read()
functions = re.findall(r"^  (\w+):\n    Type: AWS::Serverless::Function$", text, re.M)
if not functions:
    sys.exit("no AWS::Serverless::Function found in template.yaml")
missing = []
print(f"{'function':34} {'bootstrap':>10} {'gzip -9':>10}")
for name in functions:
    path = os.path.join(".aws-sam", "build", name, "bootstrap")
    try:
        data = open(path, "rb").read()
    except OSError:
        missing.append(f"{path}: missing")
        continue
    # ELF, 64-bit, machine 183 (EM_AARCH64), executable.
    if data[:5] != b"\x7fELF\x02" or int.from_bytes(data[18:20], "little") != 183 or not os.access(path, os.X_OK):
        missing.append(f"{path}: not an arm64 executable")
        continue
    print(f"{name:34} {len(data):>10} {len(gzip.compress(data, 9)):>10}")
if missing:
    sys.exit("functions without a built artifact:\n  " + "\n  ".join(missing))
print(f"{len(functions)} functions built")
PY
