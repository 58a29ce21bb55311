# Single-GPU console handover and reset/power policy on a real kernel (topology gpu: stdvga bound to
# bochs-drm, fbcon on its framebuffer, an e1000e behind a root port). Kernel facts first (vtconsole,
# reset_method and d3cold_allowed semantics), then the hook: prepare hands the console over and applies
# the policy, release gives everything back. systemd is a fake systemctl (the lab has no systemd).
vga=$(devs 0x1234 0x1111); nic=$(devs 0x8086 0x10d3)
if [ -z "$vga" ] || [ -z "$nic" ]; then skip "console handover" "needs --topology gpu (stdvga + e1000e)"; return 0; fi
VT=/sys/class/vtconsole
vtcons() { for v in $VT/vtcon*; do printf '%s=%s ' "$(basename "$v")" "$(cat "$v/bind")"; done | sed 's/ $//'; }
for v in $VT/vtcon*; do echo "# $(basename "$v"): $(cat "$v/name") bind=$(cat "$v/bind")"; fact console-initial "$(basename "$v")" "$(cat "$v/name") bind=$(cat "$v/bind")"; done
echo "# framebuffers: $(ls /sys/class/graphics 2>/dev/null | tr '\n' ' ')"
echo "# platform framebuffer drivers: $(ls -d /sys/bus/platform/drivers/*framebuffer* 2>/dev/null | tr '\n' ' ')"
eq "stdvga is the boot VGA, bound to bochs-drm" "1 bochs-drm" "$(cat "$SYS/devices/$vga/boot_vga") $(drv "$vga")"
fbcon=$(for v in $VT/vtcon*; do grep -q '^(M) frame buffer device' "$v/name" && basename "$v"; done | head -n1)
eq "fbcon is a bound (M) virtual console" "yes 1" "$([ -n "$fbcon" ] && echo yes) $(cat "$VT/$fbcon/bind" 2>/dev/null)"

# --- kernel: reset_method and d3cold_allowed ---
rm0=$(cat "$SYS/devices/$nic/reset_method")
fact power-initial reset_method "$rm0"
echo "# $nic reset_method: '$rm0', d3cold_allowed $(cat "$SYS/devices/$nic/d3cold_allowed")"
echo bus > "$SYS/devices/$nic/reset_method"
eq "reset_method takes one supported method" bus "$(cat "$SYS/devices/$nic/reset_method")"
check_fails "reset_method refuses an unknown name" sh -c "echo warm > $SYS/devices/$nic/reset_method"
check_fails "reset_method refuses a method the device lacks" sh -c "echo device_specific > $SYS/devices/$nic/reset_method"
eq "a refused write leaves the list as it was" bus "$(cat "$SYS/devices/$nic/reset_method")"
echo "" > "$SYS/devices/$nic/reset_method"
eq "an empty write disables every method (reads empty)" "" "$(cat "$SYS/devices/$nic/reset_method")"
fact power-empty reset_method "$(cat "$SYS/devices/$nic/reset_method")"
echo default > "$SYS/devices/$nic/reset_method"
eq "default restores the probed list" "$rm0" "$(cat "$SYS/devices/$nic/reset_method")"
echo 0 > "$SYS/devices/$nic/d3cold_allowed"
eq "d3cold_allowed takes 0" 0 "$(cat "$SYS/devices/$nic/d3cold_allowed")"
echo 1 > "$SYS/devices/$nic/d3cold_allowed"
check_fails "d3cold_allowed refuses junk" sh -c "echo off > $SYS/devices/$nic/d3cold_allowed"

# --- the hook: handover + policy, then everything back ---
if ! hook_landed; then skip "hook console handover" "dist/hook.cjs has no prepare"; return 0; fi
cat > /tmp/fake-systemctl <<'SH'
#!/bin/sh
verb=$1; shift; [ "$1" = "--" ] && shift; unit=$1
st=$(sed -n "s/^$unit //p" /tmp/units)
echo "$verb $unit" >> /tmp/units.log
case $verb in
  is-active) echo "${st:-inactive}"; [ "$st" = active ] && exit 0; exit 3 ;;
  start|stop) [ "$verb" = start ] && new=active || new=inactive
    grep -v "^$unit " /tmp/units > /tmp/units.n; echo "$unit $new" >> /tmp/units.n; mv /tmp/units.n /tmp/units ;;
  *) exit 1 ;;
esac
SH
chmod +x /tmp/fake-systemctl
echo "display-manager.service active" > /tmp/units; : > /tmp/units.log
printf '{"devices": {"%s": {"resetMethod": ["bus"], "d3coldAllowed": false}}}\n' "$nic" > /tmp/gpu-config.json
u=5a1b0000-0000-4000-8000-00000000c0de
domain_xml lab-console "$u" "hostdev:$vga:no" "hostdev:$nic:no" "meta:<passthru:console handover='on'/>" > /tmp/console.xml
before=$(snapshot); vt_before=$(vtcons)
hookenv() { env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C PASSTHRU_CONFIG=/tmp/gpu-config.json PASSTHRU_SYSTEMCTL=/tmp/fake-systemctl node "$LAB_DIST/hook.cjs" "$@"; }
hookenv lab-console prepare begin - < /tmp/console.xml > /tmp/hook.out 2> /tmp/hook.err; rc=$?
echo "# prepare -> exit $rc $(cat /tmp/hook.err)"
eq "prepare with the handover exits 0" 0 "$rc"
eq "display manager stopped" "display-manager.service inactive" "$(cat /tmp/units)"
# measured: once its last framebuffer is gone fbcon unregisters, its vtcon with it, and the dummy console is bound
echo "# vtcons after prepare: $(vtcons); fb: $(ls /sys/class/graphics 2>/dev/null | tr '\n' ' ')"
eq "fbcon let go: its vtcon gone with the framebuffer, or unbound" yes "$([ ! -e "$VT/$fbcon" ] || [ "$(cat "$VT/$fbcon/bind")" = 0 ] && echo yes)"
eq "no framebuffer left on the host" "" "$(ls /sys/class/graphics 2>/dev/null | grep '^fb[0-9]')"
fact console-prepared vtcons "$(vtcons)"
eq "GPU and NIC on vfio-pci" "vfio-pci vfio-pci" "$(drv "$vga") $(drv "$nic")"
eq "policy applied: reset_method bus, d3cold_allowed 0" "bus 0" "$(cat "$SYS/devices/$nic/reset_method") $(cat "$SYS/devices/$nic/d3cold_allowed")"
eq "journal written" yes "$(test -f "$(journal_of "$u")" && echo yes)"
hookenv lab-console release end - < /tmp/console.xml > /tmp/hook.out 2> /tmp/hook.err; rc=$?
echo "# release -> exit $rc $(cat /tmp/hook.err)"
eq "release exits 0 and says nothing" "0 " "$rc $(cat /tmp/hook.err)"
eq "GPU back on bochs-drm, NIC on e1000e" "bochs-drm e1000e" "$(drv "$vga") $(drv "$nic")"
echo "# vtcons after release: $(vtcons)"
fact console-released vtcons "$(vtcons)"
eq "virtual consoles as before" "$vt_before" "$(vtcons)"
eq "policy restored" "$rm0 1" "$(cat "$SYS/devices/$nic/reset_method") $(cat "$SYS/devices/$nic/d3cold_allowed")"
eq "display manager started again" "display-manager.service active" "$(cat /tmp/units)"
eq "every device as before" "$before" "$(snapshot)"
eq "journal removed" no "$(test -e "$(journal_of "$u")" && echo yes || echo no)"
echo "# systemctl calls: $(tr '\n' ';' < /tmp/units.log)"
