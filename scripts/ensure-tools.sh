#!/usr/bin/env bash
# Installs the real tools the tests run (Debian's prometheus: promtool; prometheus-alertmanager: amtool; memcached,
# which test/containerFlags.test.ts starts with the generated arguments; luajit, Fluent Bit's Lua engine) when they
# are missing; with `node-exporter`, also Debian's prometheus-node-exporter (the benchmark scrapes a real one).
# Needs root or sudo; otherwise prints the command and fails.
set -euo pipefail
need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v amtool >/dev/null || need+=(prometheus-alertmanager)
# LuaJIT: the Lua engine Fluent Bit embeds, to run the generated tenant script.
command -v luajit >/dev/null || need+=(luajit)
command -v memcached >/dev/null || need+=(memcached)
if [ "${1:-}" = "node-exporter" ]; then
    command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "missing ${need[*]}: run  apt-get install -y ${need[*]}" >&2; exit 1
fi
echo "installing Debian packages: ${need[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# The packages may start their services; the tests run their own instances on loopback.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter memcached; do
    (command -v systemctl >/dev/null && $SUDO systemctl stop "$svc" 2>/dev/null) || true
done
