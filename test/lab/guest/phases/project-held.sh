# The hook's release, and recover, while a qemu still holds what the hook made for a domain (a VF of
# the nvme PF bound to vfio-pci, and an mtty mdev): the kernel can finish neither the VF's unbind, nor
# the mdev's remove, nor the SR-IOV disable until qemu lets go (kernel-held). Release must report
# each step that timed out and keep the journal, not hang libvirt; recover meanwhile must say why it
# stops; once qemu is gone, recover must end the journal with the host as before.
# (bg, hold, unhold: lib.sh; each run that may wait goes to the background.)
if ! hook_landed; then skip "release while qemu holds the devices" "dist/hook.cjs has no prepare yet (issue 5)"; return 0; fi
modprobe vfio-pci
modprobe mtty
pf=$(devs 0x1b36 0x0010 | head -n1); P=$SYS/devices/$pf
vf0=$(echo "$pf" | sed 's/\.0$/.1/')
mu=5a1b0000-0000-4000-8000-0000000000c1  # not m: domain_xml sets m
before=$(snapshot)
a1=$(cat /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/available_instances)
u=5a1b0000-0000-4000-8000-0000000000c0
domain_xml lab-held "$u" "hostdev:$vf0:no" "mdev:$mu" "meta:<passthru:pf address='$pf' vfs='2'/>" \
  "meta:<passthru:mdev uuid='$mu' type='mtty-1' parent='mtty'/>" > /tmp/held.xml
run_hook /tmp/held.xml lab-held prepare begin
eq "prepare (VF $vf0 managed='no' of pf vfs=2, mdev mtty-1) exits 0" 0 "$hook_rc"
eq "2 VFs, $vf0 on vfio-pci, the mdev exists" "2 vfio-pci yes" "$(cat "$P/sriov_numvfs") $(drv "$vf0") $(test -e "/sys/bus/mdev/devices/$mu" && echo yes)"
g0=$(grp "$vf0")
hookenv() { env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C PASSTHRU_WRITE_TIMEOUT_MS=2000 PASSTHRU_LOCK_WAIT_S=3 "$@"; }
if held "a paused qemu holds $vf0 (group $g0) and the mdev" hold lab-held "$g0" -device "vfio-pci,host=$vf0" -device "vfio-pci,sysfsdev=/sys/bus/mdev/devices/$mu"; then
  # (the XML through sh -c: a background job's stdin is /dev/null)
  t=$(cut -d' ' -f1 /proc/uptime)
  bg rel hookenv sh -c "exec node '$LAB_DIST/hook.cjs' lab-held release end - < /tmp/held.xml"
  n=0; while [ $n -lt 600 ] && ! grep -q 'journal kept' /tmp/held.rel 2>/dev/null; do n=$((n + 1)); sleep 0.1; done
  echo "# release said (after $(echo "$(cut -d' ' -f1 /proc/uptime) $t" | awk '{print $1-$2}') s, process $(bgstate rel)): $(bgout rel)"
  eq "release reports the mdev remove, the VF unbind and sriov_numvfs=0 as timed out, and keeps the journal" "yes yes yes yes" \
    "$(grep -q "$mu: mdev remove failed: timed out after 2000 ms" /tmp/held.rel && echo yes) $(grep -q "$vf0: unbind failed: timed out after 2000 ms" /tmp/held.rel && echo yes) $(grep -q "$pf: sriov_numvfs failed: timed out after 2000 ms" /tmp/held.rel && echo yes) $(grep -q 'journal kept' /tmp/held.rel && echo yes)"
  eq "the journal is kept (state releasing)" releasing "$(sed -n 's/.*"state": *"\([a-z]*\)".*/\1/p' "$(journal_of "$u")" 2>/dev/null)"
  fact project-held release "process-after-report:$(bgstate rel)"
  # recover meanwhile: the release still holds the host-wide lock while its process waits for its
  # stuck writes to return (Node's exit joins its thread pool), or recover itself meets the device locks
  bg rec hookenv node "$LAB_DIST/passthru.js" recover --all
  wait_bg 40 rec
  echo "# recover meanwhile: $(bgstate rec) $(bgout rec)"
  fact project-held recover-meanwhile "$(bgstate rec) $(bgout rec | cut -c1-200)"
  eq "recover meanwhile does not succeed (exits non-zero, or waits for the kernel) and says why (the lock, or timed-out steps)" "yes yes" \
    "$(case "$(bgstate rec)" in rc=0) ;; *) echo yes ;; esac) $(grep -Eq 'timed out (after|waiting)' /tmp/held.rec && echo yes)"
  unhold lab-held
  wait_bg 60 rel rec
  eq "once qemu is gone, the release process ends (exit 0)" "rc=0" "$(bgstate rel)"
  check "then recover --all succeeds" hookenv node "$LAB_DIST/passthru.js" recover --all
  eq "journal gone, no VFs, mdev gone with its port back, every device as before" "no 0 no $a1 $before" \
    "$(test -e "$(journal_of "$u")" && echo yes || echo no) $(cat "$P/sriov_numvfs") $(test -e "/sys/bus/mdev/devices/$mu" && echo yes || echo no) $(cat /sys/class/mdev_bus/mtty/mdev_supported_types/mtty-1/available_instances) $(snapshot)"
fi
# whatever happened above, leave the host clean for the next phases
[ -e "/sys/bus/mdev/devices/$mu" ] && echo 1 > "/sys/bus/mdev/devices/$mu/remove"
[ "$(cat "$P/sriov_numvfs")" = 0 ] || echo 0 > "$P/sriov_numvfs"
rm -f "$(journal_of "$u")"
