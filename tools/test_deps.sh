#!/usr/bin/env bash
# The Debian packages the Python tests start for real: a PostgreSQL server (tests start a
# throwaway cluster of their own on a loopback port, see tests/pg_cluster.py) and Chromium
# (the dashboard test drives it headless with Playwright, which never downloads a browser).
# Run by `make test-deps` (part of `make test`). As root, or with sudo, it installs what is
# missing with apt-get; otherwise it prints the command and exits 1.
set -euo pipefail

missing=()
if ! command -v pg_ctl >/dev/null 2>&1 && ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
  missing+=(postgresql)
fi
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
((${#missing[@]})) || exit 0

cmd="apt-get update -qq && apt-get install -y -qq --no-install-recommends ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "test-deps: missing ${missing[*]}; install with (as root): $cmd" >&2
    exit 1
  fi
fi
echo "test-deps: installing ${missing[*]} (Debian packages)"
log=$(mktemp)
# The postgresql package would start its own cluster on port 5432; the tests use their own.
if ! { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  echo "test-deps: could not install ${missing[*]} (command: $cmd)" >&2
  exit 1
fi
rm -f "$log"
