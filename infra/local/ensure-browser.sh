#!/usr/bin/env bash
# Makes sure the Chromium that the dashboard's browser tests drive (through Playwright) is installed: Debian's package, because
# Playwright's own browser download cannot work on our machines. Safe to run any number of times; does nothing when it is there.
set -euo pipefail

CHROMIUM=${EVENTSHOP_CHROMIUM:-/usr/bin/chromium}

log() { echo "[browser] $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -x "$CHROMIUM" ]; then
  log "chromium present at $CHROMIUM"
  exit 0
fi

log "installing chromium from the distribution's packages"
as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
[ -x "$CHROMIUM" ] || { log "chromium was installed but $CHROMIUM is still missing"; exit 1; }
log "chromium ready: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
