#!/bin/bash
# A real libvirtd in a private mount (and network) namespace, for the e2e tier. The machine's own libvirt state is never
# touched: inside `unshare -m` (propagation private) directories of a work dir are bind-mounted over
# /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt and /var/cache/libvirt, and copies of
# /etc/passwd and /etc/group that know libvirt-qemu over the originals. Where a mount point does not
# exist on the machine, its parent is shadowed (in the namespace only) by a tmpfs holding the parent's
# entries again, so nothing is created on the real file system. The private network namespace keeps
# libvirt's tap devices, bridges and firewall probes off the machine's own network.
#
#   e2e-ns.sh check                 exit 0, or print one line saying why this machine cannot run it (exit 3)
#   e2e-ns.sh run WORKDIR           enter a new mount namespace, start libvirtd, print "READY", then hold the
#                                   namespace until stdin closes or a signal: then destroy every domain,
#                                   stop libvirtd and kill whatever else still runs in the namespace
#   e2e-ns.sh libvirtd-start|libvirtd-stop|libvirtd-restart   (inside the namespace, via nsenter)
#   e2e-ns.sh kill-ns               (inside) kill every process of this mount namespace but the caller
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
self=$(readlink -f "$0")
PIDFILE=/run/libvirt/e2e-libvirtd.pid
# what libvirtd's environment holds: a standard PATH, and a canary to learn whether hooks inherit it
LIBVIRTD_ENV="PATH=$PATH LC_ALL=C HOME=/root PASSTHRU_E2E_CANARY=libvirtd-env"
TARGETS="/etc/libvirt /run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt"

die() { echo "e2e-ns: $*" >&2; exit 1; }

check() {
  [ "$(id -u)" = 0 ] || { echo "needs root (uid is $(id -u))"; exit 3; }
  for b in unshare nsenter libvirtd virsh qemu-system-x86_64 timeout flock; do
    command -v "$b" >/dev/null 2>&1 || { echo "'$b' not found (run: npm run test:setup)"; exit 3; }
  done
  out=$(unshare -m -n --propagation private true 2>&1) || { echo "cannot create a mount and network namespace: $out"; exit 3; }
  exit 0
}

# shadow DIR: a tmpfs over DIR that holds DIR's entries again (bind mounts / symlinks to a stash)
shadow() {
  local dir=$1 stash=$WORK/stash$1 e name
  mkdir -p "$stash"
  mount --rbind "$dir" "$stash" || die "bind $dir"
  mount -t tmpfs -o mode=0755 e2e-shadow "$dir" || die "tmpfs over $dir"
  for e in "$stash"/* "$stash"/.[!.]*; do
    [ -e "$e" ] || [ -L "$e" ] || continue
    name=${e##*/}
    if [ -d "$e" ] && [ ! -L "$e" ]; then
      mkdir -p "$dir/$name" && mount --rbind "$e" "$dir/$name"
    else
      ln -s "$e" "$dir/$name"
    fi
  done
}

mount_private() {
  local t src
  for t in $TARGETS; do
    src=$WORK/fs$t
    mkdir -p "$src"
    [ -d "$t" ] || { shadow "${t%/*}"; mkdir -p "$t"; }
    mount --bind "$src" "$t" || die "bind over $t"
  done
  cp /etc/passwd "$WORK/passwd"
  cp /etc/group "$WORK/group"
  grep -q '^libvirt-qemu:' "$WORK/group" || echo 'libvirt-qemu:x:64055:' >>"$WORK/group"
  grep -q '^kvm:' "$WORK/group" || echo 'kvm:x:64056:' >>"$WORK/group"
  grep -q '^libvirt-qemu:' "$WORK/passwd" || echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu,,,:/var/lib/libvirt:/usr/sbin/nologin' >>"$WORK/passwd"
  mount --bind "$WORK/passwd" /etc/passwd || die "bind /etc/passwd"
  mount --bind "$WORK/group" /etc/group || die "bind /etc/group"
}

write_config() {
  mkdir -p /etc/libvirt/hooks /var/lib/libvirt/qemu /var/log/libvirt/qemu /var/cache/libvirt/qemu
  # shared with the lab guest: see the file for why each line
  cp "$(dirname "$self")/throwaway-qemu.conf" /etc/libvirt/qemu.conf || die "write qemu.conf"
  cat >/etc/libvirt/libvirtd.conf <<'EOF'
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
}

# qemu capabilities probed by an earlier run (PASSTHRU_E2E_CAPS_CACHE): libvirt re-validates them
# (qemu binary, libvirt and kernel versions) and probes again when stale, so this only saves time
CAPS=/var/cache/libvirt/qemu/capabilities
caps_in() {
  local c=${PASSTHRU_E2E_CAPS_CACHE:-}
  [ -n "$c" ] && [ -d "$c" ] || return 0
  mkdir -p "$CAPS" && cp -p "$c"/*.xml "$CAPS"/ 2>/dev/null
  return 0
}
caps_out() {
  local c=${PASSTHRU_E2E_CAPS_CACHE:-} tmp
  [ -n "$c" ] && [ ! -d "$c" ] || return 0
  ls "$CAPS"/*.xml >/dev/null 2>&1 || return 0
  mkdir -p "${c%/*}" && tmp=$(mktemp -d "$c.XXXXXX") || return 0
  cp -p "$CAPS"/*.xml "$tmp"/ && mv -T "$tmp" "$c" 2>/dev/null || rm -rf "$tmp"
  return 0
}

libvirtd_start() {
  # -d: libvirtd daemonizes and stays in this namespace after the caller (nsenter) exits
  env -i $LIBVIRTD_ENV libvirtd -d -p "$PIDFILE" -f /etc/libvirt/libvirtd.conf || die "libvirtd did not start"
  local i
  for i in $(seq 1 150); do
    timeout 5 virsh -q -c qemu:///system version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  die "libvirtd did not answer within 15 s (see /var/log/libvirt/libvirtd.log)"
}

libvirtd_stop() {
  local pid i
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  sleep 0.1
  return 0
}

kill_ns() {
  # every process of this mount namespace but us and our ancestors' chain (nsenter execs, so none)
  local me p pids=""
  me=$(readlink /proc/self/ns/mnt)
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] && continue
    [ "$(readlink /proc/$p/ns/mnt 2>/dev/null)" = "$me" ] && pids="$pids $p"
  done
  for p in $pids; do [ "$p" = "$BASHPID" ] || kill -KILL "$p" 2>/dev/null; done
  return 0
}

teardown() {
  trap '' TERM INT HUP EXIT
  local d
  for d in $(timeout 5 virsh -q -c qemu:///system list --name 2>/dev/null); do
    timeout 5 virsh -q -c qemu:///system destroy "$d" >/dev/null 2>&1
  done
  libvirtd_stop
  kill_ns
  exit 0
}

inside() {
  WORK=$1
  ip link set lo up 2>/dev/null
  # from here on every way out (a failed set-up step included) ends what runs in the namespace
  trap teardown TERM INT HUP EXIT
  mount_private
  write_config
  caps_in
  libvirtd_start
  caps_out
  echo "READY $$ $(readlink /proc/self/ns/mnt)"
  # hold the namespace until the test runner closes our stdin (or dies: then stdin closes too), and
  # never longer than PASSTHRU_E2E_MAX_S (a hung runner must not leave libvirtd and qemu behind)
  local deadline=$((SECONDS + ${PASSTHRU_E2E_MAX_S:-900})) rc
  while [ "$SECONDS" -lt "$deadline" ]; do
    read -r -t 5 _
    rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -gt 128 ] || break
  done
  teardown
}

case "${1:-}" in
  check) check ;;
  run)
    [ -n "${2:-}" ] && [ -d "$2" ] || die "usage: e2e-ns.sh run WORKDIR (an existing directory)"
    exec unshare -m -n --propagation private "$self" inside "$(readlink -f "$2")"
    ;;
  inside) inside "$2" ;;
  libvirtd-start) libvirtd_start ;;
  libvirtd-stop) libvirtd_stop ;;
  libvirtd-restart) libvirtd_stop; libvirtd_start ;;
  kill-ns) kill_ns ;;
  *) die "usage: e2e-ns.sh check | run WORKDIR | libvirtd-start | libvirtd-stop | libvirtd-restart | kill-ns" ;;
esac
