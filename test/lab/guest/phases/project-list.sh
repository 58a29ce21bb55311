# `passthru list --json` and `passthru doctor --json` on real sysfs, compared with what the kernel says.
pf=$(devs 0x1b36 0x0010 | head -n1)
if has_subcommand list; then
  # with VFs present, so the listing's VF rows are compared too
  echo 2 > "$SYS/devices/$pf/sriov_numvfs"
  passthru list --json > /tmp/list.json 2> /tmp/list.err; rc=$?
  eq "passthru list --json exits 0" 0 "$rc"
  [ -s /tmp/list.err ] && echo "# list stderr: $(cat /tmp/list.err)"
  cp /tmp/list.json "$LAB_RESULTS/list.json"
  out=$(node "$LAB_REPO/test/lab/guest/compare-list.mjs" /tmp/list.json 2>&1); rc=$?
  eq "list matches the kernel (devices, ids, class, drivers, overrides, groups, VFs, mdev types)" 0 "$rc"
  printf '%s\n' "$out" | head -n 30 | sed 's/^/# /'
  echo 0 > "$SYS/devices/$pf/sriov_numvfs"
else
  skip "passthru list --json matches the kernel" "'passthru list' is not registered yet"
fi
if has_subcommand doctor; then
  passthru doctor --json > /tmp/doctor.json 2> /tmp/doctor.err; rc=$?
  echo "# doctor exit $rc"
  cp /tmp/doctor.json "$LAB_RESULTS/doctor.json"
  out=$(node "$LAB_REPO/test/lab/guest/compare-doctor.mjs" /tmp/doctor.json 2>&1); rc=$?
  eq "doctor's findings match the kernel (IOMMU on, interrupt remapping, vfio modules, cmdline)" 0 "$rc"
  printf '%s\n' "$out" | head -n 30 | sed 's/^/# /'
else
  skip "passthru doctor --json matches the kernel" "'passthru doctor' is not registered yet"
fi
