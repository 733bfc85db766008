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
