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

#endif
