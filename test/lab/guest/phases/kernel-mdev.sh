# Kernel facts about mdevs, with the kernel's mtty sample: types, create/remove, available_instances.
check "modprobe mtty" modprobe mtty
# The booted host in the simulator's format (test/lab/lab-host.sim.json is a copy of one).
node "$LAB_REPO/test/lab/guest/dump-sim-host.mjs" > "$LAB_RESULTS/lab-host.sim.json"
M=/sys/class/mdev_bus
eq "mtty is an mdev parent" mtty "$(ls "$M")"
T=$M/mtty/mdev_supported_types
eq "mtty offers two types" "mtty-1 mtty-2" "$(ls "$T" | tr '\n' ' ' | sed 's/ $//')"
a1=$(cat "$T/mtty-1/available_instances"); a2=$(cat "$T/mtty-2/available_instances")
probe mdev-initial "readlink:$M/mtty" "list:$T" "list:$T/mtty-1" "read:$T/mtty-1/name" "read:$T/mtty-1/description" \
  "read:$T/mtty-1/device_api" "read:$T/mtty-1/available_instances" "read:$T/mtty-2/available_instances" \
  "read:$T/mtty-2/name" "list:/sys/bus/mdev/devices" >/dev/null
u1=8a6fe3c8-2a3f-4a8e-9b3b-5e1f0c2d4a01
u2=8a6fe3c8-2a3f-4a8e-9b3b-5e1f0c2d4a02
check "create an mtty-2 mdev" sh -c "echo $u1 > $T/mtty-2/create"
eq "/sys/bus/mdev/devices/$u1 exists" yes "$(test -e "/sys/bus/mdev/devices/$u1" && echo yes)"
eq "available_instances of mtty-2 dropped by one" "$((a2 - 1))" "$(cat "$T/mtty-2/available_instances")"
echo "# mtty-1 available: $a1 -> $(cat "$T/mtty-1/available_instances") after one mtty-2"
probe mdev-one "readlink:/sys/bus/mdev/devices/$u1" "list:/sys/bus/mdev/devices/$u1" "readlink:/sys/bus/mdev/devices/$u1/mdev_type" \
  "readlink:/sys/bus/mdev/devices/$u1/driver" "readlink:/sys/bus/mdev/devices/$u1/iommu_group" "list:$T/mtty-2/devices" \
  "read:$T/mtty-1/available_instances" "read:$T/mtty-2/available_instances" "list:/dev/vfio" \
  "write:$T/mtty-2/create=$u1" "write:$T/mtty-1/create=$u1" "write:$T/mtty-2/create=not-a-uuid" \
  "write:$T/mtty-2/create=8A6FE3C8-2A3F-4A8E-9B3B-5E1F0C2D4A02" "exists:/sys/bus/mdev/devices/$u2" \
  "write:/sys/bus/mdev/devices/$u2/remove=1" "write:/sys/bus/mdev/devices/$u1/remove=0" "exists:/sys/bus/mdev/devices/$u1" >/dev/null
[ -e "/sys/bus/mdev/devices/$u2" ] && echo 1 > "/sys/bus/mdev/devices/$u2/remove"
check "remove it (echo 1 > remove)" sh -c "echo 1 > /sys/bus/mdev/devices/$u1/remove"
eq "gone, available_instances back" "no $a2" "$(test -e "/sys/bus/mdev/devices/$u1" && echo yes || echo no) $(cat "$T/mtty-2/available_instances")"
# Exhaust mtty-2, then one more.
i=0; while [ "$(cat "$T/mtty-2/available_instances")" -gt 0 ] && [ $i -lt 64 ]; do
  i=$((i + 1)); echo "$(printf '00000000-0000-4000-8000-%012d' $i)" > "$T/mtty-2/create" || break
done
eq "created mtty-2 until available_instances reached 0" "0" "$(cat "$T/mtty-2/available_instances")"
probe mdev-exhausted "read:$T/mtty-2/available_instances" "read:$T/mtty-1/available_instances" \
  "write:$T/mtty-2/create=00000000-0000-4000-8000-999999999999" >/dev/null
for u in $(ls /sys/bus/mdev/devices); do echo 1 > "/sys/bus/mdev/devices/$u/remove"; done
eq "all removed, counts restored" "$a1 $a2 " "$(cat "$T/mtty-1/available_instances") $(cat "$T/mtty-2/available_instances") $(ls /sys/bus/mdev/devices)"
