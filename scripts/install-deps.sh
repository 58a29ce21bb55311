#!/bin/sh
# Installs the Debian packages the test tiers need. Idempotent: skips what is present.
# Usage: scripts/install-deps.sh [test|lab|bench]...   (default: test)
set -eu
want="${*:-test}"
pkgs=""
for tier in $want; do
  case "$tier" in
    test)  pkgs="$pkgs libxml2-utils libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 iproute2 util-linux man-db" ;;  # man-db: man -l renders the built man pages
    lab)   pkgs="$pkgs qemu-system-x86 busybox-static cpio kmod xz-utils zstd gzip make gcc-12 gcc libc6-dev linux-libc-dev libelf1 libssl3" ;;  # compilers: mtty.ko + vfio-group-status
    bench) pkgs="$pkgs virtinst pciutils" ;;  # virt-xml and lspci: the peers of xmlfix and passthru list
    *) echo "install-deps: unknown tier '$tier' (test, lab, bench)" >&2; exit 2 ;;
  esac
done
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then echo "install-deps: need root to install:$missing" >&2; exit 1; fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps libvirt from pulling in dnsmasq/firewall daemons we never start.
apt-get install -y -qq --no-install-recommends $missing >/dev/null
