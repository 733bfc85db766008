/* agent-bench's streaming-dispatch floor: how long this machine takes from posix_spawn in a small C
 * program to the first instruction of the (static) dispatch tool. For each of N runs it prints
 * "before <seconds>" (CLOCK_MONOTONIC just before posix_spawn); the tool prints "start <seconds>" when
 * it ends. Usage: spawn_floor TOOL N */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <sys/wait.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    int runs = atoi(argv[2]);
    for (int i = 0; i < runs; i++) {
        struct timespec before;
        clock_gettime(CLOCK_MONOTONIC, &before);
        printf("before %lld.%09ld\n", (long long)before.tv_sec, before.tv_nsec);
        fflush(stdout);
        pid_t pid;
        char *args[] = {argv[1], NULL};
        if (posix_spawn(&pid, argv[1], NULL, NULL, args, environ) != 0) return 1;
        int status;
        waitpid(pid, &status, 0);
    }
    return 0;
}
