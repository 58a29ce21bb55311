# The guest side of the lab: runs each phase in order in one boot (or those named by lab.only=),
# then writes the TAP plan. Exit status: 0 only when every check passed.
. "$LAB_REPO/test/lab/guest/lib.sh"
phases="kernel-groups kernel-sriov kernel-mdev kernel-held project-list project-hook-group project-hook-vf project-hook-mdev project-recover project-held libvirt libvirt-hotplug project-console"
for p in $phases; do
  wanted "$p" || continue
  begin_phase "$p"
  . "$LAB_REPO/test/lab/guest/phases/$p.sh"
done
tap "1..$tap_n"
[ "$tap_failed" -eq 0 ]
