#!/usr/bin/env bash
# Install the Debian packages kvmtest needs, only those that are missing.
# Usage: scripts/sysdeps.sh [base|libvirt|report|build|all]   (default: all)
set -euo pipefail
want=${1:-all}
base_pkgs="qemu-system-x86 qemu-utils busybox-static linux-image-amd64 iproute2 cpio kmod"
libvirt_pkgs="libvirt-daemon-system libvirt-dev pkg-config"
# headless Chromium: the test suite loads report.html in it (tests/report/test_browser.py)
report_pkgs="chromium"
# a C compiler and Python's headers: the mypyc-compiled build of kvmtest.config (setup.py,
# tests/config/test_compiled.py, make bench) and libvirt-python's build
build_pkgs="gcc python3-dev"
case "$want" in
  base) pkgs=$base_pkgs ;;
  libvirt) pkgs=$libvirt_pkgs ;;
  report) pkgs=$report_pkgs ;;
  build) pkgs=$build_pkgs ;;
  all) pkgs="$base_pkgs $libvirt_pkgs $report_pkgs $build_pkgs" ;;
  *) echo "usage: $0 [base|libvirt|report|build|all]" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages:$missing (run as root or install them)" >&2
  exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/dev/null
