#define _GNU_SOURCE
/* Asks the kernel whether a VFIO group is viable: opens /dev/vfio/N and issues VFIO_GROUP_GET_STATUS.
 * Prints "viable" or "not-viable" (exit 0), or the errno name of the failing call (exit 1).
 * Built by scripts/lab-setup.sh for the lab guest; sysfs alone cannot answer this question. */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) { fprintf(stderr, "usage: vfio-group-status N|/dev/vfio/N\n"); return 2; }
  char path[64];
  if (argv[1][0] == '/') snprintf(path, sizeof path, "%s", argv[1]);
  else snprintf(path, sizeof path, "/dev/vfio/%s", argv[1]);
  int fd = open(path, O_RDWR);
  if (fd < 0) { printf("open:%s\n", strerrorname_np(errno)); return 1; }
  struct vfio_group_status st = { .argsz = sizeof st };
  if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st) < 0) { printf("ioctl:%s\n", strerrorname_np(errno)); return 1; }
  printf("%s\n", (st.flags & VFIO_GROUP_FLAGS_VIABLE) ? "viable" : "not-viable");
  close(fd);
  return 0;
}
