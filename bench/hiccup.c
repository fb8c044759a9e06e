/* A 1 ms sleeper that prints every overshoot over 1 ms with its CLOCK_MONOTONIC time (ns, the
 * clock of Java's System.nanoTime() on Linux), for lining stalls up with the alarm path trace.
 * Run it at SCHED_FIFO (chrt -f 50): then only the kernel and the hypervisor can delay it, so an
 * overshoot is a stall of the VM (or of the kernel), not a wait for a core. Derived from the
 * team's /tmp/hic/hic.c (same loop, same summary line); bench/alarm_path.sh builds and runs it.
 *   hiccup SECONDS   -> lines "<start_ns> <overshoot_ms>", then the summary. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static long long now_ns(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
int main(int argc, char **argv) {
  double dur = argc > 1 ? atof(argv[1]) : 10;
  long long t0 = now_ns(), end = t0 + (long long)(dur * 1e9);
  long n = 0, b1 = 0, b2 = 0, b5 = 0, b10 = 0; double mx = 0, stall = 0;
  struct timespec s = {0, 1000000};
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (;;) {
    long long a = now_ns(); if (a > end) break;
    nanosleep(&s, 0);
    double o = (now_ns() - a) / 1e6 - 1.0;
    n++; if (o > mx) mx = o;
    if (o > 1) { b1++; printf("%lld %.3f\n", a, o); }
    if (o > 2) b2++;
    if (o > 5) { b5++; stall += o; }
    if (o > 10) b10++;
  }
  printf("# n=%ld >1ms %ld >2ms %ld >5ms %ld >10ms %ld max %.1f ms; time in >5ms stalls %.3f%%\n", n, b1, b2, b5, b10, mx, stall / (dur * 10));
  return 0;
}
