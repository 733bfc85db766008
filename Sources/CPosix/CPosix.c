#define _GNU_SOURCE
#include "CPosix.h"
#include <fcntl.h>
#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

int cposix_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int cposix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int cposix_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int cposix_set_not_dumpable(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : errno;
}

int cposix_disable_core_dumps(void) {
    struct rlimit none = {0, 0};
    return setrlimit(RLIMIT_CORE, &none) == 0 ? 0 : errno;
}

// MARK: - File sandbox (issue 9): opening paths beneath a directory descriptor

_Static_assert(CPOSIX_RESOLVE_NO_XDEV == RESOLVE_NO_XDEV && CPOSIX_RESOLVE_NO_MAGICLINKS == RESOLVE_NO_MAGICLINKS &&
               CPOSIX_RESOLVE_NO_SYMLINKS == RESOLVE_NO_SYMLINKS && CPOSIX_RESOLVE_BENEATH == RESOLVE_BENEATH,
               "CPosix.h's RESOLVE_* values differ from the kernel's");

int cposix_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve) {
    struct open_how how = { .flags = (unsigned long long)(unsigned int)flags, .mode = mode, .resolve = resolve };
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int cposix_o_path(void) {
    return O_PATH;
}

// MARK: - End of the file sandbox block

// MARK: - The no-orphan watchdog (issue 9)

#include <signal.h>
#include <stdint.h>
#include <string.h>

// One bit per possible process-group id (PID_MAX_LIMIT on 64-bit Linux): 512 KiB of zeroed memory,
// which costs nothing until the watchdog touches a page.
#define WATCHDOG_PID_LIMIT 4194304
static uint64_t watchdog_live[WATCHDOG_PID_LIMIT / 64];

static void watchdog_run(int fd) {
    unsigned char buffer[4096];
    size_t have = 0;
    for (;;) {
        ssize_t n = read(fd, buffer + have, sizeof buffer - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // end of file: agent-repl is gone (or the pipe failed)
        have += (size_t)n;
        size_t used = 0;
        for (; have - used >= 4; used += 4) {
            int32_t record;
            memcpy(&record, buffer + used, 4);
            int64_t pgid = record < 0 ? -(int64_t)record : record;
            if (pgid <= 1 || pgid >= WATCHDOG_PID_LIMIT) continue;
            uint64_t bit = (uint64_t)1 << (pgid % 64);
            if (record > 0) watchdog_live[pgid / 64] |= bit;
            else watchdog_live[pgid / 64] &= ~bit;
        }
        memmove(buffer, buffer + used, have - used);
        have -= used;
    }
    for (size_t word = 0; word < WATCHDOG_PID_LIMIT / 64; word++) {
        uint64_t bits = watchdog_live[word];
        while (bits) {
            int b = __builtin_ctzll(bits);
            bits &= bits - 1;
            kill(-(pid_t)(word * 64 + (size_t)b), SIGKILL);
        }
    }
}

int cposix_start_watchdog(int *write_fd) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -1;
    pid_t pid = fork();
    if (pid < 0) {
        int saved = errno;
        close(fds[0]);
        close(fds[1]);
        errno = saved;
        return -1;
    }
    if (pid > 0) {
        close(fds[0]);
        *write_fd = fds[1];
        return pid;
    }
    // The watchdog. Only async-signal-safe calls from here on.
    close(fds[1]);
    setsid();
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    int ignored[] = {SIGINT, SIGHUP, SIGTERM, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) sigaction(ignored[i], &ignore, NULL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    // The pipe's read end becomes descriptor 3 (before 0-2 are replaced: it may be one of them).
    if (fds[0] != 3 && dup2(fds[0], 3) != 3) _exit(1);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
        dup2(null, 0);
        dup2(null, 1);
        dup2(null, 2);
    }
    // Keep no tool's pipe, no terminal, no test harness's pipe: close everything else.
    if (close_range(4, ~0U, 0) != 0) {
        for (int other = 4; other < 65536; other++) close(other);
    }
    if (chdir("/") != 0) { /* stays where it was; harmless */ }
    prctl(PR_SET_NAME, (unsigned long)"agent-repl-wd", 0, 0, 0);
    watchdog_run(3);
    _exit(0);
}

// MARK: - End of the watchdog block
