# Hot-plug with a real kernel and a real libvirtd (inside the guest, as in the libvirt phase): a running
# domain without passthrough gets the e1000 behind the pcie-pci-bridge by `passthru attach`, whose
# IOMMU group also holds another e1000 and edu on host drivers. A conventional PCI device: libvirt
# hot-plugs it into a slot of the domain's pcie-to-pci-bridge (a PCIe root port does not take it).
# libvirt alone would refuse it (group not viable); with attach the peers go to vfio-pci first and
# the nested qemu really gets the vfio device.
# The nested guest runs no OS, so it never answers an unplug request: detach waits its bound, says
# libvirt still has the device and keeps the steps; the domain's release at destroy undoes them.
if ! command -v libvirtd >/dev/null || ! command -v virsh >/dev/null; then skip "libvirtd in the guest" "libvirtd/virsh not installed on the host"; return 0; fi
if ! has_subcommand attach; then skip "passthru attach" "not in this tree"; return 0; fi
set -- $(devs 0x8086 0x100e); ea=$1; eb=$2
edu=$(devs 0x1234 0x11e8); g=$(grp "$eb")
before=$(snapshot)
libvirt_prepare
sed -e 's|@ENV@|:|' -e "s|@NODE@|'$(command -v node)'|" -e "s|@HOOK_JS@|'$LAB_DIST/hook.cjs'|" \
  "$LAB_REPO/hooks/qemu" > /etc/libvirt/hooks/qemu.d/passthru
chmod 755 /etc/libvirt/hooks/qemu.d/passthru
libvirt_start
V="virsh -c qemu:///system"
{ libvirt_domain_head lab-hotplug 5a1b0000-0000-4000-8000-0000000000b2; cat <<XML
    <controller type='pci' index='0' model='pcie-root'/>
    <controller type='pci' index='1' model='pcie-root-port'/>
    <controller type='pci' index='2' model='pcie-root-port'/>
    <controller type='pci' index='3' model='pcie-root-port'/>
    <controller type='pci' index='4' model='pcie-root-port'/>
    <controller type='pci' index='5' model='pcie-to-pci-bridge'/>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
} > /tmp/hp.xml
check "virsh define and start a domain without passthrough" sh -c "$V define /tmp/hp.xml && $V start lab-hotplug"
t=$(cut -d' ' -f1 /proc/uptime)
out=$(passthru attach lab-hotplug --add-hostdev "$eb" --live 2>&1); rc=$?
echo "# passthru attach (exit $rc, $(echo "$(cut -d' ' -f1 /proc/uptime) $t" | awk '{print $1-$2}') s): $(echo "$out" | tr '\n' ' ')"
eq "passthru attach $eb to the running domain succeeds" 0 "$rc"
edu_now=$(drv "$edu"); case "$edu_now" in none | vfio-pci) edu_ok=ok ;; *) edu_ok="on $edu_now" ;; esac
eq "hostdev and its e1000 peer on vfio-pci, edu driverless or on vfio-pci" "vfio-pci vfio-pci ok" "$(drv "$eb") $(drv "$ea") $edu_ok"
eq "the domain's qemu holds /dev/vfio/$g" yes "$(ls -l /proc/$(pgrep -f 'guest=lab-hotplug' | head -n1)/fd 2>/dev/null | grep -q "/dev/vfio/$g" && echo yes)"
eq "libvirt's live XML has the hostdev" yes "$($V dumpxml lab-hotplug | grep -q "$(pciattrs "$eb" | cut -d' ' -f2)" && echo yes)"
eq "status lists it hot-plugged" yes "$(passthru status | grep -q "hot-plugged:  $eb (attached)" && echo yes)"
out=$(PASSTHRU_DETACH_WAIT_S=5 passthru detach lab-hotplug "$eb" 2>&1); rc=$?
echo "# passthru detach (exit $rc): $(echo "$out" | tr '\n' ' ')"
eq "detach: the OS-less guest never lets go; bounded, said, steps kept" "1 yes" "$rc $(echo "$out" | grep -q 'libvirt still has' && echo yes)"
check "virsh destroy" $V destroy lab-hotplug
eq "after destroy every driver is as before (libvirt reattached $eb, our release the peers)" "$before" "$(snapshot)"
eq "and no journal is left" "" "$(ls "$STATE" 2>/dev/null | grep '\.json$')"
$V undefine lab-hotplug >/dev/null 2>&1
kill "$(cat /run/libvirtd.pid 2>/dev/null)" 2>/dev/null
