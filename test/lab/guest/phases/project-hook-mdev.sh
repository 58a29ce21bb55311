# The hook creates the mdev a domain asks for through mtty (<passthru:mdev uuid type parent>) and
# removes it at release; an mdev it did not create is never removed.
if ! hook_landed; then skip "hook mdev create/remove" "dist/hook.cjs has no prepare yet (issue 5)"; return 0; fi
modprobe mtty
T=/sys/class/mdev_bus/mtty/mdev_supported_types
a2=$(cat "$T/mtty-2/available_instances")
m=6d000000-0000-4000-8000-000000000001
u=5a1b0000-0000-4000-8000-000000000021
domain_xml lab-mdev "$u" "mdev:$m" "meta:<passthru:mdev uuid='$m' type='mtty-2' parent='mtty'/>" > /tmp/mdev.xml
run_hook /tmp/mdev.xml lab-mdev prepare begin
eq "prepare (mdev mtty-2 on parent mtty) exits 0" 0 "$hook_rc"
eq "the mdev exists, of type mtty-2" "mtty-2" "$(basename "$(readlink "/sys/bus/mdev/devices/$m/mdev_type" 2>/dev/null)")"
eq "available_instances dropped by one" "$((a2 - 1))" "$(cat "$T/mtty-2/available_instances")"
run_hook /tmp/mdev.xml lab-mdev release end
eq "release exits 0" 0 "$hook_rc"
eq "the mdev is gone, available_instances back" "no $a2" "$(test -e "/sys/bus/mdev/devices/$m" && echo yes || echo no) $(cat "$T/mtty-2/available_instances")"

# Without parent=: any parent offering the type.
u=5a1b0000-0000-4000-8000-000000000022
domain_xml lab-mdev-any "$u" "mdev:$m" "meta:<passthru:mdev uuid='$m' type='mtty-1'/>" > /tmp/mdev2.xml
run_hook /tmp/mdev2.xml lab-mdev-any prepare begin
eq "prepare (mtty-1, no parent given) exits 0 and creates it" "0 mtty-1" "$hook_rc $(basename "$(readlink "/sys/bus/mdev/devices/$m/mdev_type" 2>/dev/null)")"
run_hook /tmp/mdev2.xml lab-mdev-any release end
eq "release removes it" no "$(test -e "/sys/bus/mdev/devices/$m" && echo yes || echo no)"

# An mdev that existed before: used, never removed.
echo "$m" > "$T/mtty-2/create"
u=5a1b0000-0000-4000-8000-000000000023
run_hook /tmp/mdev.xml lab-mdev prepare begin
eq "prepare with the mdev already there exits 0" 0 "$hook_rc"
run_hook /tmp/mdev.xml lab-mdev release end
eq "release leaves an mdev it did not create" yes "$(test -e "/sys/bus/mdev/devices/$m" && echo yes)"
echo 1 > "/sys/bus/mdev/devices/$m/remove" 2>/dev/null

# A type that does not exist: refused with one line, nothing created.
domain_xml lab-mdev-bad "$u" "mdev:$m" "meta:<passthru:mdev uuid='$m' type='mtty-9' parent='mtty'/>" > /tmp/mdev3.xml
run_hook /tmp/mdev3.xml lab-mdev-bad prepare begin
eq "prepare of an unknown mdev type fails with one line naming it" "yes 1 yes" "$([ "$hook_rc" -ne 0 ] && echo yes) $(printf '%s\n' "$hook_err" | grep -c .) $(echo "$hook_err" | grep -q mtty-9 && echo yes)"
eq "no mdev created" "" "$(ls /sys/bus/mdev/devices)"
