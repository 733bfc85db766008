#define _GNU_SOURCE
#include "CPosix.h"
#include <fcntl.h>
#include <errno.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/syscall.h>

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

// MARK: - Spawning exec tools (issue 9)

#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>

// close_range, or one close at a time where the kernel has none (before 5.9).
static void close_from_to(unsigned int first, unsigned int last) {
    if (close_range(first, last, 0) == 0) return;
    for (unsigned int fd = first; fd <= last && fd < 65536; fd++) close((int)fd);
}

// Closes every descriptor but the `count` (at most 8, distinct) in `keep`.
static void close_all_but(const int *keep, int count) {
    int sorted[8];
    for (int i = 0; i < count; i++) {
        int j = i;
        while (j > 0 && sorted[j - 1] > keep[i]) { sorted[j] = sorted[j - 1]; j--; }
        sorted[j] = keep[i];
    }
    unsigned int next = 0;
    for (int i = 0; i < count; i++) {
        if ((unsigned int)sorted[i] > next) close_from_to(next, (unsigned int)sorted[i] - 1);
        next = (unsigned int)sorted[i] + 1;
    }
    close_from_to(next, ~0U);
}

struct spawn_args {
    const char *path;
    char *const *argv;
    char *const *envp;
    int fds[3];
    const char *cwd;
    int record_fd;
    int stage;  // written by the child when it fails (the parent waits: CLONE_VFORK)
    int error;
};

// The child, on a stack of its own in the parent's memory, the parent suspended until it execs or
// exits. Only async-signal-safe calls; every signal is blocked on entry.
static int spawn_child(void *raw) {
    struct spawn_args *a = raw;
    setpgid(0, 0);
    // First drop every descriptor but the tool's three and the record pipe: a child waiting on a
    // busy watchdog holds nothing of agent-repl's (the terminal, another tool's pipes).
    int keep[4] = {a->fds[0], a->fds[1], a->fds[2], a->record_fd};
    close_all_but(keep, a->record_fd >= 0 ? 4 : 3);
    if (a->record_fd >= 0) {
        // Recorded by the child itself, before its program can run. Until it execs it also holds a
        // write end of the watchdog's pipe, so the watchdog cannot see end of file before this.
        int32_t pid = (int32_t)getpid();
        while (write(a->record_fd, &pid, 4) < 0 && errno == EINTR) {}
        close(a->record_fd);
        struct sigaction ignore;
        memset(&ignore, 0, sizeof ignore);
        ignore.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &ignore, NULL);  // drops a SIGPIPE from that write (watchdog gone)
    }
    // stdin, stdout and stderr become 0-2 (ones below 3 are moved up first).
    int fds[3] = {a->fds[0], a->fds[1], a->fds[2]};
    for (int i = 0; i < 3; i++) {
        if (fds[i] < 3 && fds[i] != i) {
            int moved = fcntl(fds[i], F_DUPFD, 3);
            if (moved < 0) { a->stage = CPOSIX_SPAWN_FAILED_DESCRIPTORS; a->error = errno; _exit(127); }
            fds[i] = moved;
        }
    }
    for (int i = 0; i < 3; i++) {
        if (fds[i] != i && dup2(fds[i], i) != i) { a->stage = CPOSIX_SPAWN_FAILED_DESCRIPTORS; a->error = errno; _exit(127); }
    }
    close_from_to(3, ~0U);
    if (a->cwd != NULL && chdir(a->cwd) != 0) { a->stage = CPOSIX_SPAWN_FAILED_CHDIR; a->error = errno; _exit(127); }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++) sigaction(sig, &dfl, NULL);  // fails harmlessly for KILL, STOP
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(a->path, a->argv, a->envp);
    a->stage = CPOSIX_SPAWN_FAILED_EXEC;
    a->error = errno;
    _exit(127);
}

pid_t cposix_spawn(const char *path, char *const argv[], char *const envp[], int in, int out, int err,
                   const char *cwd, int record_fd, int *failed_stage, int *failed_errno) {
    const size_t stack_size = 128 * 1024;
    void *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    struct spawn_args a = {path, argv, envp, {in, out, err}, cwd, record_fd, 0, 0};
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);  // no handler of the parent's may run in the child
    pid_t pid = clone(spawn_child, (char *)stack + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &a);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    munmap(stack, stack_size);
    if (pid < 0) {
        errno = saved;
        return -1;
    }
    // The child has exec'd and is runnable; this thread, just woken, would otherwise run on before it
    // on this CPU (wakeup preemption) while the spawner goes on with its bookkeeping. Letting the
    // child have the CPU first brought agent-bench's spawn → tool `main` from 0.89-1.14 to 0.80-0.90 ms
    // (median of 30 alternating runs, three runs, load 1.5-3).
    sched_yield();
    *failed_stage = a.stage;
    *failed_errno = a.error;
    return pid;
}

int cposix_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

// MARK: - End of the spawning block
