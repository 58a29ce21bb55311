# Stretch: a real libvirtd (the host's package, run inside the guest, its config only in the guest's
# tmpfs overlay) starting a domain whose managed hostdev shares its IOMMU group with a peer on a host
# driver. Without our hook libvirt must refuse; with our hook in qemu.d it must start, with a real
# vfio device, and our release must restore the peer's driver after virsh destroy.
if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null; then skip "libvirtd in the guest" "libvirtd/virsh not installed on the host"; return 0; fi
set -- $(devs 0x8086 0x100e); ea=$1; eb=$2
edu=$(devs 0x1234 0x11e8); g=$(grp "$ea")
before=$(snapshot)
libvirt_prepare
# libvirtd enables hooks only if one exists when it starts; our entry is added later (seen at the next call).
printf '#!/bin/sh\nexit 0\n' > /etc/libvirt/hooks/qemu.d/00-noop
chmod 755 /etc/libvirt/hooks/qemu.d/00-noop
t=$(cut -d' ' -f1 /proc/uptime)
libvirt_start
check "libvirtd answers" virsh -c qemu:///system version
echo "# libvirtd up after $(echo "$(cut -d' ' -f1 /proc/uptime) $t" | awk '{print $1-$2}') s"
{ libvirt_domain_head lab-libvirt 5a1b0000-0000-4000-8000-0000000000a1; cat <<XML
    <hostdev mode='subsystem' type='pci' managed='yes'>
      <source>
        <address $(pciattrs "$eb")/>
      </source>
    </hostdev>
  </devices>
</domain>
XML
} > /tmp/lv.xml
V="virsh -c qemu:///system"
check "virsh define" $V define /tmp/lv.xml
err=$($V start lab-libvirt 2>&1); rc=$?
echo "# libvirt said (exit $rc): $(echo "$err" | tr '\n' ' ')"
eq "without our hook, virsh start fails: group $g not viable ($ea on e1000)" "yes yes" "$([ $rc -ne 0 ] && echo yes) $(echo "$err" | grep -q 'not viable' && echo yes)"
eq "and nothing changed" "$before" "$(snapshot)"
# What the hook is for, done by hand: with the peers on vfio-pci, libvirt starts the domain.
to_driver "$ea" vfio-pci; to_driver "$edu" vfio-pci
t=$(cut -d' ' -f1 /proc/uptime)
check "with the peers bound by hand, virsh start succeeds" $V start lab-libvirt
echo "# virsh start took $(echo "$(cut -d' ' -f1 /proc/uptime) $t" | awk '{print $1-$2}') s"
eq "domain running, its hostdev on vfio-pci" "running vfio-pci" "$($V domstate lab-libvirt 2>&1 | head -n1) $(drv "$eb")"
# Unbinding a device qemu holds: the kernel neither refuses nor completes, it waits for qemu.
rm -f /tmp/unbind.rc
( echo "$eb" > "$SYS/devices/$eb/driver/unbind"; echo "rc=$?" > /tmp/unbind.rc ) 2>/dev/null &
sleep 4
# The kernel drops the driver link before it calls vfio-pci's remove, which waits: while blocked, the
# device already looks driverless in sysfs although vfio-pci still holds it.
eq "an unbind of the hostdev qemu holds blocks (pending after 4 s), its driver link already gone" "pending none" "$(cat /tmp/unbind.rc 2>/dev/null || echo pending) $(drv "$eb")"
# Which reads wait with it? (Each in the background: a read that takes the device lock cannot return,
# nor be killed, until the unbind finishes.)
rm -f /tmp/blk.*
( readlink "$SYS/devices/$eb/driver" > /tmp/blk.driver-link 2>&1; echo returned >> /tmp/blk.driver-link ) &
( cat "$SYS/devices/$eb/driver_override" > /tmp/blk.driver_override 2>&1; echo returned >> /tmp/blk.driver_override ) &
( cat "$SYS/devices/$eb/vendor" > /tmp/blk.vendor 2>&1; echo returned >> /tmp/blk.vendor ) &
( ls "$SYS/drivers/vfio-pci" > /tmp/blk.vfio-pci-dir 2>&1; echo returned >> /tmp/blk.vfio-pci-dir ) &
( ls /dev/vfio > /tmp/blk.dev-vfio 2>&1; echo returned >> /tmp/blk.dev-vfio ) &
sleep 3
blocked=""
for f in /tmp/blk.*; do
  k=${f#/tmp/blk.}
  if grep -q returned "$f"; then echo "# while the unbind waits, $k returns: $(grep -v returned "$f" | tr '\n' ' ')"; else blocked="$blocked $k"; fi
done
echo "# while the unbind waits, these reads block:${blocked:- none}"
eq "while it waits, reading driver_override blocks too (it takes the device lock); links, listings, ids do not" "driver_override" "${blocked# }"
echo "{\"label\":\"libvirt-unbind-blocked\",\"op\":\"reads-blocked\",\"value\":\"${blocked# }\"}" >> "$LAB_RESULTS/facts.jsonl"
check "virsh destroy" $V destroy lab-libvirt
n=0; while [ ! -e /tmp/unbind.rc ] && [ $n -lt 300 ]; do n=$((n + 1)); sleep 0.1; done
eq "the blocked unbind returns once qemu is gone" "rc=0" "$(cat /tmp/unbind.rc 2>/dev/null)"
echo "# after destroy: $eb on $(drv "$eb"), override $(cat "$SYS/devices/$eb/driver_override")"
to_default "$eb"; to_default "$ea"; to_default "$edu"
eq "drivers restored by hand" "$before" "$(snapshot)"
if hook_landed; then
  sed -e 's|@ENV@|:|' -e "s|@NODE@|'$(command -v node)'|" -e "s|@HOOK_JS@|'$LAB_DIST/hook.cjs'|" \
    "$LAB_REPO/hooks/qemu" > /etc/libvirt/hooks/qemu.d/passthru
  chmod 755 /etc/libvirt/hooks/qemu.d/passthru
  t=$(cut -d' ' -f1 /proc/uptime)
  check "virsh start of a domain whose hostdev $eb shares group $g with $ea (on e1000) and edu" $V start lab-libvirt
  echo "# virsh start took $(echo "$(cut -d' ' -f1 /proc/uptime) $t" | awk '{print $1-$2}') s"
  edu_now=$(drv "$edu"); case "$edu_now" in none | vfio-pci) edu_ok=ok ;; *) edu_ok="on $edu_now" ;; esac
  eq "domain running; hostdev and the e1000 peer on vfio-pci, edu driverless or on vfio-pci" "running vfio-pci vfio-pci ok" "$($V domstate lab-libvirt 2>&1 | head -n1) $(drv "$eb") $(drv "$ea") $edu_ok"
  eq "the domain's qemu holds /dev/vfio/$g" yes "$(ls -l /proc/$(pgrep -f 'guest=lab-libvirt' | head -n1)/fd 2>/dev/null | grep -q "/dev/vfio/$g" && echo yes)"
  check "virsh destroy" $V destroy lab-libvirt
  eq "drivers restored after destroy (libvirt reattached $eb, our release the peers)" "$before" "$(snapshot)"
else
  skip "virsh start with our hook" "dist/hook.cjs has no prepare yet (issue 5)"
fi
$V undefine lab-libvirt >/dev/null 2>&1
kill "$(cat /run/libvirtd.pid 2>/dev/null)" 2>/dev/null
