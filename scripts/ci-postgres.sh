#!/usr/bin/env bash
# Makes sure PostgreSQL's server binaries (initdb, postgres) are installed, for the PostgreSQL
# store's tests. Installs Debian's package if they are missing; starts nothing: each test file
# starts its own throwaway server (test/support/postgres-harness.ts), so no service is needed.
# Run as root (CI is). Prints the version found.
set -euo pipefail

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r dir; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/postgres" ]; then echo "$dir"; fi
  done | tail -1
}

bin="$(find_bin)"
if [ -z "$bin" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "PostgreSQL is not installed and this is not root: apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "== installing PostgreSQL"
  apt-get update -qq
  # The package's own cluster (15/main) is neither needed nor used by the tests.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  bin="$(find_bin)"
fi
if [ -z "$bin" ]; then
  echo "PostgreSQL's initdb and postgres are still missing under /usr/lib/postgresql/*/bin" >&2
  exit 1
fi
"$bin/postgres" --version
