#ifndef CPOSIX_H
#define CPOSIX_H

#include <sys/types.h>

/// glibc calls that Swift's Glibc module hides behind _GNU_SOURCE, as plain functions.
/// Each returns 0 on success and an errno value (or -1 with errno set, for cposix_pipe2) on failure.

/// pipe2(fds, O_CLOEXEC): a pipe whose ends are closed on exec, atomically.
int cposix_pipe_cloexec(int fds[2]);

/// prctl(PR_SET_DUMPABLE, 0): no process of the same user may ptrace this one or read its
/// /proc/PID/environ or /proc/PID/mem; inherited by no exec'd child (exec resets it).
int cposix_set_not_dumpable(void);

/// setrlimit(RLIMIT_CORE, {0, 0}): a crash writes no core file holding the key.
int cposix_disable_core_dumps(void);

// MARK: - File sandbox (issue 9): opening paths beneath a directory descriptor

/// Resolution flags for cposix_openat2 (the values of linux/openat2.h's RESOLVE_*).
#define CPOSIX_RESOLVE_NO_XDEV 0x01
#define CPOSIX_RESOLVE_NO_MAGICLINKS 0x02
#define CPOSIX_RESOLVE_NO_SYMLINKS 0x04
#define CPOSIX_RESOLVE_BENEATH 0x08

/// openat2(dirfd, path, {flags, mode, resolve}) through syscall(SYS_openat2): glibc 2.36 has no wrapper.
/// Returns the descriptor, or -1 with errno set (ENOSYS where the kernel has no openat2).
int cposix_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve);

/// O_PATH, which Swift's Glibc hides behind _GNU_SOURCE.
int cposix_o_path(void);

// MARK: - End of the file sandbox block

// MARK: - The no-orphan watchdog (issue 9)

/// Forks the watchdog: a child in a session of its own (no controlling terminal, so no Ctrl-C,
/// SIGHUP or terminal SIGTERM; it ignores those signals as well), with stdin/stdout/stderr on
/// /dev/null, its working folder at /, and every other descriptor closed but the read end of a pipe.
/// It reads 4-byte records from that pipe: a positive number is a tool's process-group id now live,
/// its negation says that group was killed. At end of file (every write end closed: agent-repl has
/// exited or died) it sends SIGKILL to each group still live and exits. The child calls only
/// async-signal-safe functions, so forking from a threaded process is sound.
/// On success returns the watchdog's pid and stores the write end (close-on-exec) in *write_fd;
/// on failure returns -1 with errno set.
int cposix_start_watchdog(int *write_fd);

// MARK: - End of the watchdog block

// MARK: - Spawning exec tools (issue 9)

/// Why a child of cposix_spawn could not run its program.
#define CPOSIX_SPAWN_FAILED_DESCRIPTORS 1
#define CPOSIX_SPAWN_FAILED_CHDIR 2
#define CPOSIX_SPAWN_FAILED_EXEC 3

/// posix_spawn for ChildProcess, with one step posix_spawn cannot take: the child records its own
/// process group with the watchdog before its program runs. Like glibc's posix_spawn it clones with
/// CLONE_VM | CLONE_VFORK onto a stack of its own, so this returns once the child has exec'd or
/// failed. The child leads a new process group; if `record_fd` >= 0 it writes its pid there as one
/// 4-byte record (see cposix_start_watchdog); it puts `in`, `out`, `err` on 0, 1, 2 and closes every
/// other descriptor, changes to `cwd` (unless NULL), resets every signal to its default, unblocks
/// them all and execs `path` with `argv` and `envp` (no PATH search). It calls only
/// async-signal-safe functions.
/// Returns -1 with errno set when no child was made. Otherwise returns its pid; *failed_stage is 0
/// when the program runs, else one of CPOSIX_SPAWN_FAILED_* with the errno in *failed_errno, and the
/// child has exited (not reaped) after recording its group.
pid_t cposix_spawn(const char *path, char *const argv[], char *const envp[], int in, int out, int err,
                   const char *cwd, int record_fd, int *failed_stage, int *failed_errno);

/// A descriptor (close-on-exec) that polls readable once process `pid` has exited, or -1 with errno
/// set (pidfd_open, Linux 5.3; glibc's wrapper is not visible to Swift).
int cposix_pidfd_open(pid_t pid);

// MARK: - End of the spawning block

#endif
