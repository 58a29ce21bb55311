# A prepare killed with SIGKILL half-way (the host half changed, the journal saying so), then
# `passthru recover --all` puts the real drivers, the VF count and the mdevs back.
if ! hook_landed; then skip "SIGKILL mid-prepare + recover" "dist/hook.cjs has no prepare yet (issue 5)"; return 0; fi
if ! has_subcommand recover; then skip "SIGKILL mid-prepare + recover" "'passthru recover' is not registered yet"; return 0; fi
set -- $(devs 0x8086 0x100e); ea=$1; eb=$2
edu=$(devs 0x1234 0x11e8)
pf=$(devs 0x1b36 0x0010 | head -n1)
modprobe mtty
m=6d000000-0000-4000-8000-0000000000f1
before=$(snapshot)
# kill_after K: start a prepare of a domain with many steps and SIGKILL its process group (the hook
# and the copy of itself it runs under flock) the moment the host shows its first K actions done
# (the plan's order: 1 = the PF's VF count, 2 = the mdev; then the two e1000 binds). The journal
# lists the whole plan before the first change, so the host, not the journal, says how far it got.
kill_after() {
  u=5a1b0000-0000-4000-8000-0000000000f$1
  # the conditions first: domain_xml uses the shell variable m for its own ends
  set -- "$1" "$SYS/devices/$pf/sriov_numvfs=2"
  if [ "$1" -ge 2 ]; then set -- "$@" "/sys/bus/mdev/devices/$m"; fi
  domain_xml "lab-crash-$1" "$u" "hostdev:$ea:no" "mdev:$m" "meta:<passthru:pf address='$pf' vfs='2'/>" \
    "meta:<passthru:mdev uuid='$m' type='mtty-2' parent='mtty'/>" > /tmp/crash.xml
  setsid env -i PATH="$PATH" LC_ALL=C node "$LAB_DIST/hook.cjs" "lab-crash-$1" prepare begin - < /tmp/crash.xml > /tmp/crash.out 2>&1 &
  pid=$!
  shift
  kill-at "$(journal_of "$u")" "$pid" 120 "$@"
  wait "$pid" 2>/dev/null
}
for k in 1 2; do   # of the 4 journaled actions of this domain
  seen=$(kill_after $k)
  echo "# kill after $k action(s) seen on the host: $seen"
  [ -s /tmp/crash.out ] && echo "# the hook said: $(head -c 400 /tmp/crash.out | tr '\n' ' ')"
  case "$seen" in "killed state=preparing") landed=yes ;; *) landed="no ($seen)" ;; esac
  eq "SIGKILL landed mid-prepare after step $k (journal still 'preparing')" yes "$landed"
  changed=no
  if [ "$(snapshot)" != "$before" ] || [ "$(cat "$SYS/devices/$pf/sriov_numvfs")" != 0 ] || [ -e "/sys/bus/mdev/devices/$m" ]; then changed=yes; fi
  eq "the host was changed before the kill" yes "$changed"
  out=$(env -i PATH="$PATH" LC_ALL=C node "$LAB_DIST/passthru.js" recover --all 2>&1); rc=$?
  echo "# recover --all -> exit $rc: $out"
  eq "passthru recover --all exits 0" 0 "$rc"
  eq "real drivers, VF count and mdevs restored" "$before 0 no" "$(snapshot) $(cat "$SYS/devices/$pf/sriov_numvfs") $(test -e "/sys/bus/mdev/devices/$m" && echo yes || echo no)"
  eq "no journal left" "" "$(ls "$STATE" 2>/dev/null | grep '\.json$')"
done
