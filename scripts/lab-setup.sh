#!/bin/sh
# Prepares the real-kernel lab (test/lab) under .cache/lab, idempotently:
#   - the Debian packages the lab needs on this machine (scripts/install-deps.sh lab);
#   - Debian bookworm's stock kernel + modules, downloaded and unpacked into the cache, never installed
#     on this host (the host runs its own kernel; we must not touch /boot or /lib/modules);
#   - the kernel's mtty mdev sample, built out of tree against the unpacked headers;
#   - a tiny initramfs: busybox-static, the virtio/9p/overlay modules, and test/lab/guest/initramfs-init.sh.
# A stamp records what was built from what, so a rerun with nothing changed takes well under a second.
# Writes only under .cache/lab (and apt's own cache when packages are missing).
# Env: LAB_KVER=6.1.0-NN-amd64 picks the kernel (default: what bookworm's linux-image-amd64 depends on).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cache="$repo/.cache/lab"
say() { echo "lab-setup: $*" >&2; }
die() { say "$*"; exit 1; }

sh "$repo/scripts/install-deps.sh" lab

kver="${LAB_KVER:-}"
if [ -z "$kver" ]; then
  # The newest 6.1 ABI the archive offers, read from the meta-package so reruns agree with apt.
  kver=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: linux-image-\(6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -n1)
  [ -n "$kver" ] || die "cannot find bookworm's kernel version (apt-cache depends linux-image-amd64 gave none); set LAB_KVER=6.1.0-NN-amd64"
fi
case "$kver" in 6.1.0-[0-9]*-amd64) ;; *) die "LAB_KVER '$kver' is not of the form 6.1.0-NN-amd64" ;; esac

inputs_hash=$(cat "$0" "$repo/test/lab/guest/initramfs-init.sh" "$repo/test/lab/guest/vfio-group-status.c" "$repo/test/lab/guest/kill-at.c" | sha256sum | cut -c1-16)
stamp="$cache/stamp"
want="kver=$kver inputs=$inputs_hash"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -f "$cache/initramfs.cpio.gz" ]; then
  exit 0
fi
say "building for $kver under $cache"
rm -f "$stamp"
mkdir -p "$cache/debs"
root="$cache/root"

# --- kernel, headers, kbuild, source: downloaded, unpacked into the cache ---
ksrcver=$(apt-cache show "linux-image-$kver" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
[ -n "$ksrcver" ] || die "apt-cache knows no linux-image-$kver (run apt-get update?)"
pkgs="linux-image-$kver linux-headers-$kver linux-headers-${kver%-amd64}-common linux-kbuild-6.1=$ksrcver linux-source-6.1=$ksrcver"
missing=""
for p in $pkgs; do
  n=${p%%=*}
  ls "$cache/debs/${n}_${ksrcver}_"*.deb >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "downloading$missing"
  # apt's sandbox user cannot write into our cache; the warning about that is harmless.
  (cd "$cache/debs" && apt-get download -q $missing 2>&1 | grep -v -e 'unsandboxed' -e '^Get:' >&2 || true)
fi
for p in $pkgs; do
  n=${p%%=*}
  ls "$cache/debs/${n}_${ksrcver}_"*.deb >/dev/null 2>&1 || die "download of $n $ksrcver failed"
done
rm -rf "$root" "$cache/build"
mkdir -p "$root" "$cache/build"
for n in "linux-image-$kver" "linux-headers-$kver" "linux-headers-${kver%-amd64}-common" linux-kbuild-6.1; do
  dpkg-deb -x "$(ls "$cache/debs/${n}_${ksrcver}_"*.deb)" "$root"
done
[ -f "$root/boot/vmlinuz-$kver" ] || die "no vmlinuz-$kver in the unpacked image"

# --- mtty: the kernel's own mdev sample, as an out-of-tree module ---
src_deb=$(ls "$cache/debs/linux-source-6.1_${ksrcver}_"*.deb)
dpkg-deb --fsys-tarfile "$src_deb" | tar -xO ./usr/src/linux-source-6.1.tar.xz \
  | tar -xJO linux-source-6.1/samples/vfio-mdev/mtty.c > "$cache/build/mtty.c"
[ -s "$cache/build/mtty.c" ] || die "mtty.c not found in linux-source-6.1 $ksrcver"
echo 'obj-m := mtty.o' > "$cache/build/Kbuild"
hdr="$root/usr/src/linux-headers-$kver"
# Debian's per-flavour Makefile includes the common one by absolute /usr/src path: point it into the cache.
echo "include $root/usr/src/linux-headers-${kver%-amd64}-common/Makefile" > "$hdr/Makefile"
make -s -C "$hdr" M="$cache/build" modules >"$cache/build/make.log" 2>&1 || { cat "$cache/build/make.log" >&2; die "building mtty.ko failed"; }
mods="$root/lib/modules/$kver"
mkdir -p "$mods/extra"
cp "$cache/build/mtty.ko" "$mods/extra/mtty.ko"
# The package ships no modules.dep (its postinst runs depmod): generate it for the unpacked tree.
depmod -b "$root" "$kver"

# --- guest helper: VFIO group viability comes from an ioctl, not from sysfs ---
mkdir -p "$cache/bin"
gcc -Wall -O2 -o "$cache/bin/vfio-group-status" "$repo/test/lab/guest/vfio-group-status.c" || die "building vfio-group-status failed"
gcc -Wall -O2 -o "$cache/bin/kill-at" "$repo/test/lab/guest/kill-at.c" || die "building kill-at failed"

# --- initramfs ---
ird="$cache/initramfs"
rm -rf "$ird"
mkdir -p "$ird/bin" "$ird/mods" "$ird/dev" "$ird/proc" "$ird/sys"
cp /bin/busybox "$ird/bin/busybox"
ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' || die "/bin/busybox is not static (install busybox-static)"
i=10
for m in virtio_pci 9pnet_virtio 9p overlay; do
  for ko in $(modprobe -d "$root" -S "$kver" --show-depends "$m" | sed -n 's/^insmod \([^ ]*\).*/\1/p'); do
    base=$(basename "$ko")
    ls "$ird/mods/"*"-$base" >/dev/null 2>&1 && continue
    cp "$ko" "$ird/mods/$i-$base"
    i=$((i + 1))
  done
done
cp "$repo/test/lab/guest/initramfs-init.sh" "$ird/init"
chmod 755 "$ird/init"
# The kernel opens /dev/console of the initramfs before /init runs: without it there is no output.
mknod -m 600 "$ird/dev/console" c 5 1
(cd "$ird" && find . | sort | cpio -o -H newc --quiet | gzip -1) > "$cache/initramfs.cpio.gz.tmp"
mv "$cache/initramfs.cpio.gz.tmp" "$cache/initramfs.cpio.gz"
ln -sf "root/boot/vmlinuz-$kver" "$cache/vmlinuz"
echo "$kver" > "$cache/kver"
echo "$want" > "$stamp"
say "ready: kernel $kver, mtty.ko, initramfs ($(du -k "$cache/initramfs.cpio.gz" | cut -f1) KiB)"
