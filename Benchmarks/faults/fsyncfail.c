// SPDX-License-Identifier: Apache-2.0
//
// An LD_PRELOAD shim for fsync-failure injection (used by fsync-failure.sh): while the file named by
// FAULTS_FSYNC_TRIGGER exists, fsync and fdatasync fail with EIO without syncing; otherwise they pass
// through to libc. Each injected failure appends one line ("fsync" or "fdatasync") to the file named
// by FAULTS_FSYNC_COUNT, when set, so the run can say how many syncs failed.
//
//   cc -shared -fPIC -O2 -o fsyncfail.so fsyncfail.c -ldl
//   LD_PRELOAD=$PWD/fsyncfail.so FAULTS_FSYNC_TRIGGER=/tmp/fail-fsync foryou serve ...
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

static int failing(const char *name) {
    const char *trigger = getenv("FAULTS_FSYNC_TRIGGER");
    if (trigger == NULL || access(trigger, F_OK) != 0) return 0;
    const char *count = getenv("FAULTS_FSYNC_COUNT");
    if (count != NULL) {
        int saved = errno;
        int fd = open(count, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0) {
            char line[32];
            size_t length = strlen(name);
            memcpy(line, name, length);
            line[length] = '\n';
            ssize_t ignored = write(fd, line, length + 1);
            (void)ignored;
            close(fd);
        }
        errno = saved;
    }
    return 1;
}

int fsync(int fd) {
    if (failing("fsync")) {
        errno = EIO;
        return -1;
    }
    if (real_fsync == NULL) real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return real_fsync(fd);
}

int fdatasync(int fd) {
    if (failing("fdatasync")) {
        errno = EIO;
        return -1;
    }
    if (real_fdatasync == NULL) real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real_fdatasync(fd);
}
