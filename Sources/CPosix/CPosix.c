#define _GNU_SOURCE
#include "CPosix.h"
#include <fcntl.h>
#include <unistd.h>

int cposix_spawn_file_actions_addchdir(posix_spawn_file_actions_t *actions, const char *path) {
    return posix_spawn_file_actions_addchdir_np(actions, path);
}

int cposix_spawn_file_actions_addclosefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

int cposix_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}
