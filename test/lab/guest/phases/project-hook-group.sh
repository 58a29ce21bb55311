# The hook's prepare/release on real sysfs for a domain whose hostdev shares an IOMMU group with other
# endpoints (an e1000 peer with a driver, edu with none, and the pcie-pci-bridge).
if ! hook_landed; then skip "hook prepare/release on a shared group" "dist/hook.cjs has no prepare yet (issue 5)"; return 0; fi
set -- $(devs 0x8086 0x100e); ea=$1; eb=$2
edu=$(devs 0x1234 0x11e8); bridge=$(devs 0x1b36 0x000e); g=$(grp "$ea")
modprobe -r vfio-pci 2>/dev/null   # the hook must load it itself, as on a fresh host
before=$(snapshot)

# managed='yes': the hostdev is libvirt's to detach; the hook binds the peers.
u=5a1b0000-0000-4000-8000-000000000001
domain_xml lab-group "$u" "hostdev:$ea:yes" > /tmp/group.xml
run_hook /tmp/group.xml lab-group prepare begin
eq "prepare (managed='yes' hostdev $ea) exits 0" 0 "$hook_rc"
# edu has no driver: it keeps the group viable as it is, so the hook may leave it (it does, today).
edu_now=$(drv "$edu"); case "$edu_now" in none | vfio-pci) edu_ok=ok ;; *) edu_ok="on $edu_now" ;; esac
echo "# driverless peer edu after prepare: $edu_now"
eq "peer with a driver on vfio-pci, driverless edu left driverless or on vfio-pci, hostdev left to libvirt, bridge untouched" "vfio-pci ok e1000 none" "$(drv "$eb") $edu_ok $(drv "$ea") $(drv "$bridge")"
eq "journal written" yes "$(test -f "$(journal_of "$u")" && echo yes)"
eq "/dev/vfio/$g present" yes "$(test -c "/dev/vfio/$g" && echo yes)"
# What libvirt does next for a managed hostdev, then the group must be usable.
to_driver "$ea" vfio-pci
eq "group $g viable once libvirt detached the hostdev" viable "$(vfio-group-status "$g")"
# libvirt reattaches managed hostdevs before release.
to_default "$ea"
run_hook /tmp/group.xml lab-group release end
eq "release exits 0" 0 "$hook_rc"
eq "original drivers restored" "e1000 e1000 none none" "$(drv "$ea") $(drv "$eb") $(drv "$edu") $(drv "$bridge")"
eq "journal removed" no "$(test -e "$(journal_of "$u")" && echo yes || echo no)"
eq "/dev/vfio/$g gone" no "$(test -e "/dev/vfio/$g" && echo yes || echo no)"
eq "every device (driver, driver_override) as before" "$before" "$(snapshot)"

# managed='no': the hostdev is the hook's too; the group is viable right after prepare.
u=5a1b0000-0000-4000-8000-000000000002
domain_xml lab-group-unmanaged "$u" "hostdev:$ea:no" > /tmp/group2.xml
run_hook /tmp/group2.xml lab-group-unmanaged prepare begin
eq "prepare (managed='no') exits 0" 0 "$hook_rc"
edu_now=$(drv "$edu"); case "$edu_now" in none | vfio-pci) edu_ok=ok ;; *) edu_ok="on $edu_now" ;; esac
eq "hostdev and the e1000 peer on vfio-pci, edu driverless or on vfio-pci, bridge untouched" "vfio-pci vfio-pci ok none" "$(drv "$ea") $(drv "$eb") $edu_ok $(drv "$bridge")"
eq "group $g viable after prepare alone" viable "$(vfio-group-status "$g")"
run_hook /tmp/group2.xml lab-group-unmanaged release end
eq "release (managed='no') exits 0" 0 "$hook_rc"
eq "every device as before after release" "$before" "$(snapshot)"

# A hostdev that does not exist: refused with one line naming it, nothing changed.
u=5a1b0000-0000-4000-8000-000000000003
domain_xml lab-missing "$u" "hostdev:0000:7f:1f.7:yes" > /tmp/missing.xml
run_hook /tmp/missing.xml lab-missing prepare begin
eq "prepare of a missing hostdev fails" yes "$([ "$hook_rc" -ne 0 ] && echo yes)"
eq "its error is one line naming the address" "1 yes" "$(printf '%s\n' "$hook_err" | grep -c .) $(echo "$hook_err" | grep -q '7f:1f.7' && echo yes)"
eq "nothing changed, no journal left" "$before no" "$(snapshot) $(test -e "$(journal_of "$u")" && echo yes || echo no)"
