/* Kills a process group the moment a passthru journal records N completed steps: a crash at a chosen
 * point of a real prepare. A shell poll (a fork per look) is too slow to land between two steps.
 *   kill-at JOURNAL N PGID [TIMEOUT_S]
 * Prints "killed done=K state=S" (exit 0), or "finished" when the group exited first (exit 1),
 * or "timeout" (exit 2). Built by scripts/lab-setup.sh for the lab guest. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int count(const char *s, const char *needle) {
  int n = 0;
  for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: kill-at JOURNAL N PGID [TIMEOUT_S]\n"); return 64; }
  const char *path = argv[1];
  int want = atoi(argv[2]);
  pid_t pgid = (pid_t)atoi(argv[3]);
  double limit = argc > 4 ? atof(argv[4]) : 120;
  static char buf[1 << 20];
  struct timespec tick = { 0, 500000 }, t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    FILE *f = fopen(path, "r");
    if (f) {
      size_t n = fread(buf, 1, sizeof buf - 1, f);
      fclose(f);
      buf[n] = 0;
      int done = count(buf, "\"status\": \"done\"");
      if (done >= want) {
        kill(-pgid, SIGKILL);
        const char *st = strstr(buf, "\"state\": \"");
        char state[32] = "?";
        if (st) sscanf(st + 10, "%31[a-z]", state);
        printf("killed done=%d state=%s\n", done, state);
        return 0;
      }
    }
    /* the group may not exist yet (setsid still starting): finished only when its leader is gone too */
    if (kill(-pgid, 0) != 0 && kill(pgid, 0) != 0) { printf("finished\n"); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &now);
    if ((now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9 > limit) { printf("timeout\n"); return 2; }
    nanosleep(&tick, NULL);
  }
}
