# Shared by the guest phases (sourced by main.sh): TAP results, device discovery by id, sysfs moves.
# Every result line goes to $LAB_RESULTS/results.tap (judged by run.mjs) and to the serial console.
: "${LAB_RESULTS:?}" "${LAB_REPO:?}"
SYS=/sys/bus/pci
tap_n=0
tap_failed=0
phase=""

tap() {
  echo "$*" >> "$LAB_RESULTS/results.tap"
  echo "$*"
  echo "LAB-TAP $*" > /dev/console 2>/dev/null
}
pass() { tap_n=$((tap_n + 1)); tap "ok $tap_n - $phase: $1"; }
fail() {
  tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
  tap "not ok $tap_n - $phase: $1"
  [ -z "${2:-}" ] || printf '%s\n' "$2" | head -n 20 | while IFS= read -r l; do tap "# $l"; done
}
# eq DESC EXPECTED ACTUAL
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi; }
# check DESC CMD...: passes when CMD exits 0; its output is shown on failure.
check() {
  d=$1; shift
  if o=$("$@" 2>&1); then pass "$d"; else fail "$d" "exit $?: $o"; fi
}
# check_fails DESC CMD...: passes when CMD exits non-zero.
check_fails() {
  d=$1; shift
  if o=$("$@" 2>&1); then fail "$d" "expected failure, exit 0: $o"; else pass "$d"; fi
}
begin_phase() {
  phase=$1
  echo "LAB-PHASE $phase $(cut -d' ' -f1 /proc/uptime)" > /dev/console 2>/dev/null
  echo "### phase $phase"
}
wanted() { [ -z "$LAB_ONLY" ] || echo ",$LAB_ONLY," | grep -q ",$1,"; }

# --- devices ---
# devs VENDOR DEVICE: addresses of the PCI devices with that id, sorted.
devs() { for d in $SYS/devices/*; do [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ] && basename "$d"; done; }
drv() { [ -e "$SYS/devices/$1/driver" ] && basename "$(readlink "$SYS/devices/$1/driver")" || echo none; }
grp() { basename "$(readlink "$SYS/devices/$1/iommu_group")"; }
grp_members() { ls "/sys/kernel/iommu_groups/$1/devices"; }
is_bridge() { case "$(cat "$SYS/devices/$1/class")" in 0x0604*) return 0 ;; esac; return 1; }
# Rebind the kernel's way: override, unbind from the current driver, ask the bus to probe.
to_driver() {
  echo "$2" > "$SYS/devices/$1/driver_override" || return 1
  if [ -e "$SYS/devices/$1/driver" ]; then echo "$1" > "$SYS/devices/$1/driver/unbind" || return 1; fi
  echo "$1" > "$SYS/drivers_probe" || return 1
  # drivers_probe succeeds even when nothing binds (e.g. the module is not loaded): check.
  [ "$(drv "$1")" = "$2" ] || { echo "$1 is on '$(drv "$1")' after drivers_probe, not $2" >&2; return 1; }
}
# Back to the driver the kernel picks: clear the override, unbind, probe.
to_default() {
  echo > "$SYS/devices/$1/driver_override" || return 1
  if [ -e "$SYS/devices/$1/driver" ]; then echo "$1" > "$SYS/devices/$1/driver/unbind" || return 1; fi
  echo "$1" > "$SYS/drivers_probe"
}
probe() { node "$LAB_REPO/test/lab/guest/sysfs-probe.mjs" "$@"; }
# snapshot: one line per PCI device, address driver override; for before/after comparisons.
snapshot() { for d in $SYS/devices/*; do a=$(basename "$d"); echo "$a $(drv "$a") $(cat "$d/driver_override")"; done; }

# --- the project's own commands, as a user runs them (real sysfs: no PASSTHRU_SIM) ---
skip() { tap_n=$((tap_n + 1)); tap "ok $tap_n - $phase: $1 # SKIP $2"; }
passthru() { node "$LAB_DIST/passthru.js" "$@"; }
hook() { node "$LAB_DIST/hook.cjs" "$@"; }
# has_subcommand NAME: the passthru CLI registers NAME (listed under Commands in its --help).
has_subcommand() { passthru --help 2>/dev/null | grep -Eq "^  $1( |\$)"; }
STATE=/run/passthru
journal_of() { echo "$STATE/$1.json"; }
# pciattrs 0000:03:01.0 -> domain='0x0000' bus='0x03' slot='0x01' function='0x0'
pciattrs() {
  echo "$1" | sed "s/^\([0-9a-f]*\):\([0-9a-f]*\):\([0-9a-f]*\)\.\([0-7]\)$/domain='0x\1' bus='0x\2' slot='0x\3' function='0x\4'/"
}
# domain_xml NAME UUID [hostdev:ADDR:yes|no]... [mdev:UUID]... [meta:XML]...: a domain as libvirt writes it.
domain_xml() {
  name=$1; uuid=$2; shift 2
  meta=""; devices=""
  for item in "$@"; do
    case "$item" in
      hostdev:*)
        a=$(echo "$item" | cut -d: -f2-4); m=$(echo "$item" | cut -d: -f5)
        devices="$devices    <hostdev mode='subsystem' type='pci' managed='$m'>
      <source>
        <address $(pciattrs "$a")/>
      </source>
    </hostdev>
" ;;
      mdev:*)
        devices="$devices    <hostdev mode='subsystem' type='mdev' managed='no' model='vfio-pci'>
      <source>
        <address uuid='${item#mdev:}'/>
      </source>
    </hostdev>
" ;;
      meta:*) meta="$meta      ${item#meta:}
" ;;
    esac
  done
  echo "<domain type='kvm'>"
  echo "  <name>$name</name>"
  echo "  <uuid>$uuid</uuid>"
  if [ -n "$meta" ]; then
    echo "  <metadata>"
    echo "    <passthru:devices xmlns:passthru='https://passthru.dev/xmlns/domain/1'>"
    printf '%s' "$meta"
    echo "    </passthru:devices>"
    echo "  </metadata>"
  fi
  echo "  <memory unit='KiB'>65536</memory>"
  echo "  <vcpu placement='static'>1</vcpu>"
  echo "  <os>"
  echo "    <type arch='x86_64' machine='q35'>hvm</type>"
  echo "  </os>"
  echo "  <devices>"
  echo "    <emulator>/usr/bin/qemu-system-x86_64</emulator>"
  printf '%s' "$devices"
  echo "  </devices>"
  echo "</domain>"
}
# run_hook XMLFILE NAME OP SUBOP: runs the hook as libvirt does (minimal env, XML on stdin); sets
# hook_rc and hook_err (stderr), and logs both.
run_hook() {
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C \
    node "$LAB_DIST/hook.cjs" "$2" "$3" "$4" - < "$1" > /tmp/hook.out 2> /tmp/hook.err
  hook_rc=$?
  hook_err=$(cat /tmp/hook.err)
  echo "# hook $2 $3 $4 -> exit $hook_rc${hook_err:+: $hook_err}"
}
# The hook has landed once its bundle knows the prepare operation (until then it is a placeholder).
hook_landed() { grep -q prepare "$LAB_DIST/hook-main.cjs"; }

# --- devices held by a qemu (phases kernel-held, project-held) ---
# A write or read that waits in the kernel cannot be killed (device_lock sleeps uninterruptibly), so
# everything that might wait runs in the background and is judged after a while: the lab never hangs.
# bg KEY CMD...: CMD in the background, its output then 'returned rc=N' in /tmp/held.KEY.
bg() { k=$1; shift; rm -f "/tmp/held.$k"; ( "$@" > "/tmp/held.$k" 2>&1; echo "returned rc=$?" >> "/tmp/held.$k" ) & }
# bgstate KEY: 'pending' while it runs, else 'rc=N'.
bgstate() { grep -q '^returned' "/tmp/held.$1" 2>/dev/null && sed -n 's/^returned //p' "/tmp/held.$1" || echo pending; }
bgout() { grep -v '^returned' "/tmp/held.$1" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//'; }
# wait_bg SECONDS KEY...: until every KEY has returned; fails after SECONDS.
wait_bg() {
  s=$1; shift; n=0
  while [ $n -lt $((s * 10)) ]; do
    all=yes; for k in "$@"; do [ "$(bgstate "$k")" = pending ] && all=no; done
    [ $all = yes ] && return 0
    n=$((n + 1)); sleep 0.1
  done
  return 1
}
# hold NAME GROUP QEMU-DEVICE-ARGS...: starts a paused qemu with those vfio devices and waits until it
# holds /dev/vfio/GROUP open (sets qpid); fails with qemu's stderr when it does not.
hold() {
  name=$1; grp_=$2; shift 2
  qemu-system-x86_64 -accel tcg -M q35 -m 64 -nodefaults -no-user-config -display none -S -monitor none -serial none \
    -name "$name" "$@" > "/tmp/qemu.$name.log" 2>&1 &
  qpid=$!
  n=0
  while [ $n -lt 600 ]; do
    kill -0 "$qpid" 2>/dev/null || break
    # realized: the group is open and qemu got as far as its paused main loop (a vfio device fd too)
    if ls -l "/proc/$qpid/fd" 2>/dev/null | grep -q "/dev/vfio/$grp_\$" && ls -l "/proc/$qpid/fd" 2>/dev/null | grep -q 'vfio-device'; then
      sleep 2; kill -0 "$qpid" 2>/dev/null && return 0
    fi
    n=$((n + 1)); sleep 0.1
  done
  echo "qemu did not hold /dev/vfio/$grp_: $(tr '\n' ' ' < "/tmp/qemu.$name.log")" >&2
  kill -9 "$qpid" 2>/dev/null
  return 1
}
# unhold: qemu exits (SIGTERM, as virsh destroy starts with); waits for it to be gone.
unhold() {
  kill -TERM "$qpid" 2>/dev/null
  n=0; while kill -0 "$qpid" 2>/dev/null && [ $n -lt 300 ]; do n=$((n + 1)); sleep 0.1; done
  kill -0 "$qpid" 2>/dev/null && { kill -9 "$qpid"; sleep 1; }
  wait "$qpid" 2>/dev/null
  echo "# qemu $1 said: $(tr '\n' ' ' < "/tmp/qemu.$1.log")"
}
# held DESC hold ARGS...: like check, in this shell (hold's qpid must survive).
held() { d=$1; shift; if "$@" 2> /tmp/held.err; then pass "$d"; else fail "$d" "$(cat /tmp/held.err)"; return 1; fi; }
# blocked KEY...: the KEYs still pending, space-separated.
blocked() { b=""; for k in "$@"; do [ "$(bgstate "$k")" = pending ] && b="$b $k"; done; echo "${b# }"; }
fact() { echo "{\"label\":\"$1\",\"op\":\"$2\",\"value\":\"$3\"}" >> "$LAB_RESULTS/facts.jsonl"; }

# --- libvirtd inside the guest (the host's package; its users, config and state only in the guest's
# tmpfs overlay): a throwaway root-only daemon, as the e2e tier runs one ---
libvirt_prepare() {
  grep -q '^libvirt-qemu:' /etc/group || echo 'libvirt-qemu:x:64055:' >> /etc/group
  grep -q '^libvirt:' /etc/group || echo 'libvirt:x:64056:' >> /etc/group
  grep -q '^libvirt-qemu:' /etc/passwd || echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin' >> /etc/passwd
  mkdir -p /etc/libvirt/hooks/qemu.d /var/lib/libvirt /var/log/libvirt /var/cache/libvirt /run/libvirt
  cp "$LAB_REPO/scripts/throwaway-qemu.conf" /etc/libvirt/qemu.conf # shared with the e2e tier
  modprobe vfio-pci # as on a host set up for passthrough; libvirt refuses PCI hostdevs without vfio
}
# libvirt_start: libvirtd running (started unless it is) and answering, or 30 s gone.
libvirt_start() {
  pgrep -x libvirtd >/dev/null || libvirtd -d
  n=0; while [ $n -lt 300 ] && ! virsh -c qemu:///system version >/dev/null 2>&1; do n=$((n + 1)); sleep 0.1; done
}
# libvirt_domain_head NAME UUID: the start of a small q35 domain of the nested qemu (TCG), up to its
# <devices>' emulator; the caller writes the devices and closes the elements.
libvirt_domain_head() {
  cat <<XML
<domain type='qemu'>
  <name>$1</name>
  <uuid>$2</uuid>
  <memory unit='KiB'>65536</memory>
  <vcpu placement='static'>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
  </os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
XML
}
