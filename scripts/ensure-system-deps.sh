#!/usr/bin/env bash
# Install the Debian packages that `make test` needs, only if they are missing:
#   postgresql (server for the PostgreSQL tests), chromium (browser tests via Playwright),
#   softhsm2 + opensc (PKCS#11 token for the HSM key-provider tests),
#   nginx + pgbouncer (the proxy and pooler of the topology and failover tests),
#   Pango, HarfBuzz and a font (WeasyPrint's PDF exports: shareplatform/web/pdf.py).
# Idempotent: a machine that already has everything does no apt work at all.
# Must run as root (CI and the dev machines are root); otherwise it warns and skips.
set -euo pipefail

missing=()
# Any installed major version of the server will do; the Debian 12 package is 15.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v softhsm2-util >/dev/null 2>&1 || missing+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || missing+=(opensc)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
pdf_libs=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig fonts-dejavu-core)
for pkg in "${pdf_libs[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "system-deps: all present"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "system-deps: WARNING: missing ${missing[*]} but not root; skipping install." >&2
    echo "system-deps: install them with: apt-get install ${missing[*]}" >&2
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
echo "system-deps: installing ${missing[*]} ..."
log=$(mktemp /tmp/system-deps.XXXXXX.log)
# Quiet on success; on failure show the tail of the log and stop (set -e would hide why).
if ! apt-get update -qq >"$log" 2>&1; then
    echo "system-deps: ERROR: apt-get update failed:" >&2; tail -n 30 "$log" >&2; exit 1
fi
# Keep the distribution's config files on upgrade prompts; never ask anything.
if ! apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}" >>"$log" 2>&1 </dev/null; then
    echo "system-deps: ERROR: apt-get install ${missing[*]} failed:" >&2; tail -n 30 "$log" >&2; exit 1
fi

# Check again: an install that "succeeded" but left a tool missing is still a failure.
fail=0
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || { echo "system-deps: ERROR: initdb still missing" >&2; fail=1; }
[ -x /usr/bin/chromium ] || { echo "system-deps: ERROR: /usr/bin/chromium still missing" >&2; fail=1; }
command -v softhsm2-util >/dev/null 2>&1 || { echo "system-deps: ERROR: softhsm2-util still missing" >&2; fail=1; }
command -v pkcs11-tool >/dev/null 2>&1 || { echo "system-deps: ERROR: pkcs11-tool still missing" >&2; fail=1; }
[ -x /usr/sbin/nginx ] || { echo "system-deps: ERROR: /usr/sbin/nginx still missing" >&2; fail=1; }
[ -x /usr/sbin/pgbouncer ] || { echo "system-deps: ERROR: /usr/sbin/pgbouncer still missing" >&2; fail=1; }
[ $fail -eq 0 ] || { echo "system-deps: see $log" >&2; exit 1; }
rm -f "$log"
echo "system-deps: installed ${missing[*]}"
