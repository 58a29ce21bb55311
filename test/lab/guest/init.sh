#!/bin/sh
# PID 1 of the lab guest, after the initramfs switch_root'ed into the host's tree (read-only 9p under a
# tmpfs overlay). Sets up a minimal system (no udev, no systemd), makes the unpacked guest kernel's
# modules visible at /lib/modules/$(uname -r), mounts the results share, loads drivers for the PCI
# devices present (what udev's coldplug would do), runs the test script named by lab.test=, reports
# its exit status on the console and in the results share, and powers off. Never returns.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null

off() { sync; echo o > /proc/sysrq-trigger; sleep 60 2>/dev/null; }
arg() { echo " $(cat /proc/cmdline) " | sed -n "s/.* $1=\([^ ]*\) .*/\1/p"; }
lab_modules=$(arg lab.modules)
lab_test=$(arg lab.test)
lab_repo=$(arg lab.repo)
lab_bin=$(arg lab.bin)
lab_only=$(arg lab.only)
lab_dist=$(arg lab.dist)
kver=$(uname -r)
# A fresh /tmp, unless the checkout itself lives there (a CI clone may): then the overlay's own
# writable /tmp is used, so the repo stays visible.
case "$lab_repo/" in
  /tmp/*) ;;
  *) mount -t tmpfs -o mode=1777 tmpfs /tmp ;;
esac

echo "LAB-GUEST-UP $(cut -d' ' -f1 /proc/uptime)"
if [ ! -d "$lab_modules" ]; then echo "LAB-GUEST-FAIL: lab.modules '$lab_modules' is not a directory"; off; fi
mkdir -p "/lib/modules/$kver"
mount --bind "$lab_modules" "/lib/modules/$kver"
mkdir -p /lab/results
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 results /lab/results; then
  echo "LAB-GUEST-FAIL: cannot mount the results share"; off
fi
# Coldplug: load the driver of every PCI device present, as udev would at boot.
for f in /sys/bus/pci/devices/*/modalias; do modprobe -q -b "$(cat "$f")" 2>/dev/null; done
hostname lab
cd "$lab_repo" 2>/dev/null || cd /
echo "LAB-GUEST-TEST-START $(cut -d' ' -f1 /proc/uptime) $lab_test"
PATH="$lab_bin:$PATH" LAB_RESULTS=/lab/results LAB_REPO="$lab_repo" LAB_ONLY="$lab_only" LAB_DIST="${lab_dist:-$lab_repo/dist}" HOME=/root sh "$lab_test" >/lab/results/test.log 2>&1
rc=$?
echo "$rc" > /lab/results/exit-status
echo "LAB-GUEST-TEST-END rc=$rc $(cut -d' ' -f1 /proc/uptime)"
dmesg > /lab/results/dmesg.txt 2>/dev/null
off
