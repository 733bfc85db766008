#ifndef CPOSIX_H
#define CPOSIX_H

#include <spawn.h>

/// glibc calls that Swift's Glibc module hides behind _GNU_SOURCE, as plain functions.
/// Each returns 0 on success and an errno value (or -1 with errno set, for cposix_pipe2) on failure.

/// posix_spawn_file_actions_addchdir_np: the child starts in `path`.
int cposix_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor from `from` up.
int cposix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// pipe2(fds, O_CLOEXEC): a pipe whose ends are closed on exec, atomically.
int cposix_pipe_cloexec(int fds[2]);

/// prctl(PR_SET_DUMPABLE, 0): no process of the same user may ptrace this one or read its
/// /proc/PID/environ or /proc/PID/mem; inherited by no exec'd child (exec resets it).
int cposix_set_not_dumpable(void);

/// setrlimit(RLIMIT_CORE, {0, 0}): a crash writes no core file holding the key.
int cposix_disable_core_dumps(void);

#endif
