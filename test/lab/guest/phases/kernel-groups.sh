# Kernel facts about IOMMU groups and rebinding, proved with plain shell on real sysfs. Leaves every
# device as it found it (checked at the end).
e1000s=$(devs 0x8086 0x100e)
edu=$(devs 0x1234 0x11e8)
bridge=$(devs 0x1b36 0x000e)
e1000es=$(devs 0x8086 0x10d3)
set -- $e1000s
ea=${1:-}; eb=${2:-}
eq "two e1000, one edu, one pcie-pci-bridge present" "2 1 1" "$(echo $e1000s | wc -w) $(echo $edu | wc -w) $(echo $bridge | wc -w)"
g=$(grp "$ea")
eq "e1000s, edu and the bridge share one IOMMU group" "$(echo $bridge $e1000s $edu | tr ' ' '\n' | sort | tr '\n' ' ')" "$(grp_members "$g" | tr '\n' ' ')"
for e in $e1000es; do eq "e1000e $e is alone in its group" "$e" "$(grp_members "$(grp "$e")" | tr '\n' ' ' | sed 's/ $//')"; done
eq "e1000 peers start on e1000, edu and the bridge on no driver" "e1000 e1000 none none" "$(drv "$ea") $(drv "$eb") $(drv "$edu") $(drv "$bridge")"
before=$(snapshot)

# driver_override names a driver that is not loaded: drivers_probe succeeds and binds nothing.
modprobe -r vfio-pci 2>/dev/null
probe groups-vfio-not-loaded "write:$SYS/devices/$edu/driver_override=vfio-pci" "write:$SYS/drivers_probe=$edu" \
  "readlink:$SYS/devices/$edu/driver" "write:$SYS/devices/$edu/driver_override=\\n" "read:$SYS/devices/$edu/driver_override" >/dev/null
eq "override to an unloaded vfio-pci + drivers_probe leaves edu driverless" none "$(drv "$edu")"
check "modprobe vfio-pci" modprobe vfio-pci
check "/dev/vfio/vfio exists once vfio is loaded" test -c /dev/vfio/vfio
probe groups-initial "read:$SYS/devices/$ea/driver_override" "readlink:$SYS/devices/$ea/driver" \
  "readlink:$SYS/devices/$ea/iommu_group" "list:/sys/kernel/iommu_groups/$g/devices" \
  "readlink:/sys/kernel/iommu_groups/$g/devices/$ea" "list:$SYS/drivers/vfio-pci" "read:$SYS/devices/$ea/class" \
  "read:$SYS/devices/$ea/vendor" "read:$SYS/devices/$ea/modalias" "exists:/dev/vfio/$g" "list:/dev/vfio" \
  "read:/sys/kernel/iommu_groups/$g/type" "read:$SYS/devices/$ea/reset_method" \
  $(for e in $e1000es; do echo "readlink:$SYS/devices/$e/driver" "readlink:$SYS/devices/$e/iommu_group" "readlink:$SYS/devices/$e"; done) >/dev/null

# One peer on vfio-pci, the other still on e1000: the group exists for vfio but is not viable.
check "move $ea to vfio-pci (driver_override + unbind + drivers_probe)" to_driver "$ea" vfio-pci
eq "$ea is on vfio-pci" vfio-pci "$(drv "$ea")"
check "/dev/vfio/$g appears with the first device of the group on vfio-pci" test -c "/dev/vfio/$g"
eq "group $g not viable while $eb stays on e1000" not-viable "$(vfio-group-status "$g")"
probe groups-one-on-vfio "read:$SYS/devices/$ea/driver_override" "readlink:$SYS/devices/$ea/driver" \
  "write:$SYS/drivers/e1000/unbind=$ea" "write:$SYS/drivers_probe=0000:7f:1f.7" \
  "write:$SYS/devices/$ea/driver/unbind=$eb" "write:$SYS/drivers/vfio-pci/bind=$eb" >/dev/null
eq "$eb still on e1000 after a refused vfio-pci bind" e1000 "$(drv "$eb")"

# Unbind without probe: the device stays driverless.
echo vfio-pci > "$SYS/devices/$eb/driver_override"
echo "$eb" > "$SYS/devices/$eb/driver/unbind"
eq "$eb has no driver after unbind with no probe" none "$(drv "$eb")"
eq "group $g viable: the other e1000 on vfio-pci, $eb, edu and bridge driverless" viable "$(vfio-group-status "$g")"
echo "$eb" > "$SYS/drivers_probe"
eq "drivers_probe honours driver_override" vfio-pci "$(drv "$eb")"
check "move edu (no driver) to vfio-pci" to_driver "$edu" vfio-pci
eq "edu on vfio-pci" vfio-pci "$(drv "$edu")"
eq "group $g viable with all endpoints on vfio-pci and the bridge on no driver" viable "$(vfio-group-status "$g")"
probe groups-all-on-vfio "list:$SYS/drivers/vfio-pci" "list:/dev/vfio" "write:$SYS/devices/$ea/driver_override=" \
  "read:$SYS/devices/$ea/driver_override" "write:$SYS/devices/$ea/driver_override=vfio-pci\\n" \
  "read:$SYS/devices/$ea/driver_override" >/dev/null

# And back.
for d in $ea $eb $edu; do check "back to the kernel's choice for $d" to_default "$d"; done
eq "drivers restored" "e1000 e1000 none" "$(drv "$ea") $(drv "$eb") $(drv "$edu")"
eq "/dev/vfio/$g is gone once no device of group $g is on vfio-pci" no "$(test -e "/dev/vfio/$g" && echo yes || echo no)"
probe groups-restored "read:$SYS/devices/$ea/driver_override" "list:/dev/vfio" \
  "write:$SYS/devices/0000:7f:1f.7/driver_override=vfio-pci" >/dev/null
eq "every device as before the phase" "$before" "$(snapshot)"
