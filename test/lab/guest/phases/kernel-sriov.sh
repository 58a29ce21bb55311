# Kernel facts about SR-IOV on QEMU's nvme PF, proved with plain shell: VFs come and go through
# sriov_numvfs, with virtfn/physfn links and groups of their own. Leaves sriov_numvfs at 0.
modprobe vfio-pci
pf=$(devs 0x1b36 0x0010 | head -n1)
P=$SYS/devices/$pf
eq "nvme PF present, on nvme" "nvme" "$( [ -n "$pf" ] && drv "$pf")"
eq "sriov_totalvfs / sriov_numvfs" "2 0" "$(cat "$P/sriov_totalvfs") $(cat "$P/sriov_numvfs")"
probe sriov-initial "read:$P/sriov_totalvfs" "read:$P/sriov_numvfs" "read:$P/sriov_offset" "read:$P/sriov_stride" \
  "read:$P/sriov_vf_device" "read:$P/sriov_drivers_autoprobe" "list:$P" >/dev/null

t=$(cut -d' ' -f1 /proc/uptime)
check "echo 2 > sriov_numvfs" sh -c "echo 2 > $P/sriov_numvfs"
echo "# sriov_numvfs=2 took $(echo "$(cut -d' ' -f1 /proc/uptime) $t" | awk '{print $1-$2}') s (guest time, TCG)"
vf0=$(basename "$(readlink "$P/virtfn0")"); vf1=$(basename "$(readlink "$P/virtfn1")")
eq "virtfn0/virtfn1 name two new functions" "yes yes" "$(test -d "$SYS/devices/$vf0" && echo yes) $(test -d "$SYS/devices/$vf1" && echo yes)"
eq "each VF's physfn points back at the PF" "$pf $pf" "$(basename "$(readlink "$SYS/devices/$vf0/physfn")") $(basename "$(readlink "$SYS/devices/$vf1/physfn")")"
g0=$(grp "$vf0"); g1=$(grp "$vf1")
eq "VFs are alone in their own groups" "$vf0 $vf1" "$(grp_members "$g0") $(grp_members "$g1")"
probe sriov-two-vfs "read:$P/sriov_numvfs" "readlink:$P/virtfn0" "readlink:$P/virtfn1" "readlink:$SYS/devices/$vf0/physfn" \
  "read:$SYS/devices/$vf0/vendor" "read:$SYS/devices/$vf0/device" "read:$SYS/devices/$vf0/class" \
  "readlink:$SYS/devices/$vf0/driver" "readlink:$SYS/devices/$vf0/iommu_group" "list:$SYS/devices/$vf0" \
  "write:$P/sriov_numvfs=1" "write:$P/sriov_numvfs=3" "write:$P/sriov_numvfs=2" "write:$P/sriov_numvfs=x" \
  "read:$P/sriov_numvfs" >/dev/null
eq "numvfs still 2 after refused changes" 2 "$(cat "$P/sriov_numvfs")"
# The PF leaves its driver while it has VFs: does SR-IOV survive? And can a driverless PF change it?
echo "$pf" > "$P/driver/unbind"
probe sriov-pf-unbound "read:$P/sriov_numvfs" "exists:$SYS/devices/$vf0" "write:$P/sriov_numvfs=0" "write:$P/sriov_numvfs=1" \
  "read:$P/sriov_numvfs" >/dev/null
echo "# PF unbound from nvme with 2 VFs: sriov_numvfs reads $(cat "$P/sriov_numvfs"), $vf0 $(test -e "$SYS/devices/$vf0" && echo exists || echo is gone)"
echo "$pf" > "$SYS/drivers_probe"
eq "PF back on nvme" nvme "$(drv "$pf")"
[ "$(cat "$P/sriov_numvfs")" = 2 ] || { echo 0 > "$P/sriov_numvfs"; echo 2 > "$P/sriov_numvfs"; }
eq "2 VFs again" 2 "$(cat "$P/sriov_numvfs")"
check "VF $vf0 to vfio-pci" to_driver "$vf0" vfio-pci
eq "VF on vfio-pci, /dev/vfio/$g0 present, group viable" "vfio-pci yes viable" "$(drv "$vf0") $(test -c "/dev/vfio/$g0" && echo yes) $(vfio-group-status "$g0")"
probe sriov-vf-on-vfio "write:$P/sriov_numvfs=0" "read:$P/sriov_numvfs" "exists:$SYS/devices/$vf0" "exists:/dev/vfio/$g0" >/dev/null
eq "numvfs=0 removes both VFs (even one bound to vfio-pci)" "0 no no" "$(cat "$P/sriov_numvfs") $(test -e "$SYS/devices/$vf0" && echo yes || echo no) $(test -e "$SYS/devices/$vf1" && echo yes || echo no)"
eq "no virtfn links left" "" "$(ls "$P" | grep '^virtfn')"
eq "PF still on nvme" nvme "$(drv "$pf")"
