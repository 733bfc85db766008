/* agent-bench's streaming-dispatch tool: its first act is reading CLOCK_MONOTONIC (the clock of
 * Python's time.monotonic(), which the fake server stamps its writes with); then it reads its JSON
 * arguments from stdin to their end, sleeps 500 ms and prints "start <seconds>". Compiled by the
 * benchmark with the C compiler on PATH (cc), statically linked where it can be, so that what is timed
 * is the process start, not an interpreter's or the dynamic loader's. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    struct timespec start, nap = {0, 500000000L};
    clock_gettime(CLOCK_MONOTONIC, &start);
    char buffer[4096];
    while (read(0, buffer, sizeof buffer) > 0) {}
    while (nanosleep(&nap, &nap) != 0) {}
    printf("start %lld.%09ld\n", (long long)start.tv_sec, start.tv_nsec);
    return 0;
}
