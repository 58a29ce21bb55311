# The hook creates the VFs a domain's metadata asks for on the nvme PF (<passthru:pf address vfs>), and
# puts the count back at release.
if ! hook_landed; then skip "hook VF creation" "dist/hook.cjs has no prepare yet (issue 5)"; return 0; fi
pf=$(devs 0x1b36 0x0010 | head -n1); P=$SYS/devices/$pf
before=$(snapshot)
u=5a1b0000-0000-4000-8000-000000000011
domain_xml lab-vfs "$u" "meta:<passthru:pf address='$pf' vfs='2'/>" > /tmp/vfs.xml
run_hook /tmp/vfs.xml lab-vfs prepare begin
eq "prepare (pf $pf vfs=2) exits 0" 0 "$hook_rc"
eq "sriov_numvfs is 2" 2 "$(cat "$P/sriov_numvfs")"
eq "virtfn0 and virtfn1 exist" "yes yes" "$(test -e "$P/virtfn0" && echo yes) $(test -e "$P/virtfn1" && echo yes)"
run_hook /tmp/vfs.xml lab-vfs release end
eq "release exits 0" 0 "$hook_rc"
eq "sriov_numvfs back to 0, VFs gone" "0 no" "$(cat "$P/sriov_numvfs") $(test -e "$P/virtfn0" && echo yes || echo no)"
eq "every device as before" "$before" "$(snapshot)"

# A VF as a hostdev of the same domain: its address is predicted before the VF exists.
vf0=$(echo "$pf" | sed 's/\.0$/.1/')
u=5a1b0000-0000-4000-8000-000000000012
domain_xml lab-vf-hostdev "$u" "hostdev:$vf0:no" "meta:<passthru:pf address='$pf' vfs='1'/>" > /tmp/vf2.xml
run_hook /tmp/vf2.xml lab-vf-hostdev prepare begin
eq "prepare (VF $vf0 as managed='no' hostdev, pf vfs=1) exits 0" 0 "$hook_rc"
eq "one VF, on vfio-pci, group viable" "1 vfio-pci viable" "$(cat "$P/sriov_numvfs") $(drv "$vf0") $(vfio-group-status "$(grp "$vf0" 2>/dev/null)")"
run_hook /tmp/vf2.xml lab-vf-hostdev release end
eq "release: VFs gone, everything as before" "0 $before" "$(cat "$P/sriov_numvfs") $(snapshot)"

# More VFs than the PF has: refused, nothing changed.
u=5a1b0000-0000-4000-8000-000000000013
domain_xml lab-too-many "$u" "meta:<passthru:pf address='$pf' vfs='3'/>" > /tmp/vf3.xml
run_hook /tmp/vf3.xml lab-too-many prepare begin
eq "prepare asking 3 VFs of a 2-VF PF fails" yes "$([ "$hook_rc" -ne 0 ] && echo yes)"
eq "nothing changed" "0 $before" "$(cat "$P/sriov_numvfs") $(snapshot)"
