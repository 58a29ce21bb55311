#!/bin/busybox sh
# /init of the lab's tiny initramfs (built by scripts/lab-setup.sh). Mounts the host's / read-only over
# virtio-9p under a tmpfs overlay and switch_roots into it, so the guest runs the host's node and the
# project checkout while every write stays in guest RAM. Then execs the guest init named by lab.init=.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
fail() { echo "LAB-INITRAMFS-FAIL: $*"; echo o > /proc/sysrq-trigger; sleep 30; }
for m in /mods/*.ko; do insmod "$m" || fail "insmod $m"; done
init=""
for arg in $(cat /proc/cmdline); do
  case "$arg" in lab.init=*) init="${arg#lab.init=}" ;; esac
done
[ -n "$init" ] || fail "no lab.init= on the kernel command line"
mkdir -p /lower /rw /newroot
# cache=loose: the host tree does not change under a short boot, and it makes node's start-up reads cheap.
mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose hostroot /lower || fail "mount 9p hostroot"
mount -t tmpfs -o size=512m,mode=0755 tmpfs /rw || fail "mount tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot || fail "mount overlay"
[ -x "/newroot$init" ] || fail "lab.init $init is not executable in the host tree"
umount /proc /sys
umount /dev
exec switch_root /newroot "$init"
