#!/usr/bin/env bash
# Installs what the tests need outside Python: PostgreSQL server binaries (the tests start a
# throwaway cluster) and Chromium with its driver (browser tests). Debian/Ubuntu via apt-get.
set -euo pipefail
missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null \
  || missing+=(postgresql)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "The tests need: ${missing[*]}. Install them (Debian: sudo apt-get install ${missing[*]})," >&2
  echo "or set RETURNLENS_TEST_POSTGRES_URL to an existing PostgreSQL server." >&2
  exit 1
fi
echo "installing ${missing[*]} (apt-get)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
