#!/usr/bin/env bash
# Install what the test suite needs (real sops, age, sshd, Python helpers), then run every test.
# Works on a fresh Debian machine with Rust: this is the command README.md and .ci/run use.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

export SOPS_DISABLE_VERSION_CHECK=1
echo "==> reference tools: $(sops --version 2>/dev/null | head -1), age $(age --version), $(actionlint --version | head -1), $(zizmor --version)"
# A missing reference tool is a test failure in CI, never a skip.
export SPX_REQUIRE_TOOLS=1

cargo build --quiet --all-targets
cargo test --no-fail-fast "$@"
