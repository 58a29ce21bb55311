/* Kills a process group the moment the host shows chosen changes: a crash at a chosen point of a
 * real prepare. The journal cannot be the trigger: it records the whole plan once, before the first
 * change, so the host itself says how far the prepare got. A shell poll (a fork per look) is too slow
 * to land between two steps.
 *   kill-at JOURNAL PGID TIMEOUT_S COND...
 * COND is PATH (exists) or PATH=TEXT (the file's content starts with TEXT). Once every COND holds it
 * kills the group and prints "killed state=S" (S = the journal's state; exit 0), or "finished" when
 * the group exited first (exit 1), or "timeout" (exit 2). Built by scripts/lab-setup.sh for the guest. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];

/* Reads PATH into buf; returns the length, or -1 when it cannot be opened. */
static long slurp(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  return (long)n;
}

static int holds(const char *cond) {
  char path[4096];
  const char *eq = strchr(cond, '=');
  if (!eq) return access(cond, F_OK) == 0;
  size_t len = (size_t)(eq - cond);
  if (len >= sizeof path) return 0;
  memcpy(path, cond, len);
  path[len] = 0;
  return slurp(path) >= 0 && strncmp(buf, eq + 1, strlen(eq + 1)) == 0;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: kill-at JOURNAL PGID TIMEOUT_S COND...\n"); return 64; }
  const char *journal = argv[1];
  pid_t pgid = (pid_t)atoi(argv[2]);
  double limit = atof(argv[3]);
  struct timespec tick = { 0, 500000 }, t0, now;
  /* real-time priority: each wake-up preempts the hook at once, so a window of a few milliseconds
   * between two of its steps is seen even on the guest's busy emulated CPUs (best effort) */
  struct sched_param prio = { .sched_priority = 1 };
  sched_setscheduler(0, SCHED_FIFO, &prio);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    int all = 1;
    for (int i = 4; i < argc && all; i++) all = holds(argv[i]);
    if (all) {
      kill(-pgid, SIGKILL);
      char state[32] = "none";
      if (slurp(journal) >= 0) {
        const char *st = strstr(buf, "\"state\": \"");
        if (st) sscanf(st + 10, "%31[a-z]", state);
      }
      printf("killed state=%s\n", state);
      return 0;
    }
    /* the group may not exist yet (setsid still starting): finished only when its leader is gone too */
    if (kill(-pgid, 0) != 0 && kill(pgid, 0) != 0) { printf("finished\n"); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 > limit) { printf("timeout\n"); return 2; }
    nanosleep(&tick, NULL);
  }
}
