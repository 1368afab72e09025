/* SPDX-License-Identifier: Apache-2.0 */
/* The fault VFS: each file of the default VFS is wrapped, its I/O steps counted
 * under one process-wide counter, and the chosen step answered with the error code
 * the unix VFS gives for that failure (EIO on a write is SQLITE_IOERR_WRITE, ENOSPC
 * SQLITE_FULL: odd steps get the first, even ones the second, so a sweep meets
 * both). */
#include "fault_vfs.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct fault_file {
    sqlite3_file base;
    sqlite3_file *real; /* the default VFS's file, stored right after this struct */
};

static sqlite3_vfs *real_vfs;
static sqlite3_vfs fault_vfs;
static _Atomic int mode = FAULT_OFF;
static _Atomic uint64_t n_steps, fail_at, n_failed;

void fault_vfs_arm(enum fault_mode new_mode, uint64_t n)
{
    atomic_store(&n_steps, 0);
    atomic_store(&n_failed, 0);
    atomic_store(&fail_at, n);
    atomic_store(&mode, (int)new_mode);
}

uint64_t fault_vfs_disarm(void)
{
    atomic_store(&mode, FAULT_OFF);
    return atomic_load(&n_steps);
}

uint64_t fault_vfs_failed(void)
{
    return atomic_load(&n_failed);
}

/* Counts one step; true when it is to fail. */
static bool step_fails(void)
{
    int m = atomic_load(&mode);
    uint64_t step;

    if (m == FAULT_OFF)
        return false;
    step = atomic_fetch_add(&n_steps, 1) + 1;
    if ((m == FAULT_NTH && step == atomic_load(&fail_at)) ||
        (m == FAULT_FROM && step >= atomic_load(&fail_at))) {
        atomic_fetch_add(&n_failed, 1);
        if (getenv("CARBONTREE_FAULT_TRAP") &&
            (uint64_t)atoll(getenv("CARBONTREE_FAULT_TRAP")) == step)
            __builtin_trap(); /* stops a debugger at the failing step */
        return true;
    }
    return false;
}

static sqlite3_file *real_of(sqlite3_file *file)
{
    return ((struct fault_file *)file)->real;
}

static int fault_close(sqlite3_file *file)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods ? real->pMethods->xClose(real) : SQLITE_OK;
}

static int fault_read(sqlite3_file *file, void *buf, int amount, sqlite3_int64 offset)
{
    sqlite3_file *real = real_of(file);

    if (step_fails())
        return SQLITE_IOERR_READ;
    return real->pMethods->xRead(real, buf, amount, offset);
}

static int fault_write(sqlite3_file *file, const void *buf, int amount, sqlite3_int64 offset)
{
    sqlite3_file *real = real_of(file);

    if (step_fails())
        return atomic_load(&n_steps) % 2 ? SQLITE_IOERR_WRITE : SQLITE_FULL;
    return real->pMethods->xWrite(real, buf, amount, offset);
}

static int fault_truncate(sqlite3_file *file, sqlite3_int64 size)
{
    sqlite3_file *real = real_of(file);

    if (step_fails())
        return SQLITE_IOERR_TRUNCATE;
    return real->pMethods->xTruncate(real, size);
}

static int fault_sync(sqlite3_file *file, int flags)
{
    sqlite3_file *real = real_of(file);

    if (step_fails())
        return SQLITE_IOERR_FSYNC;
    return real->pMethods->xSync(real, flags);
}

static int fault_file_size(sqlite3_file *file, sqlite3_int64 *size)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xFileSize(real, size);
}

static int fault_lock(sqlite3_file *file, int level)
{
    sqlite3_file *real = real_of(file);

    if (step_fails())
        return SQLITE_IOERR_LOCK;
    return real->pMethods->xLock(real, level);
}

/* Never failed: SQLite treats an unlock that fails as a lost lock it cannot undo,
 * which no disk error produces. */
static int fault_unlock(sqlite3_file *file, int level)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xUnlock(real, level);
}

static int fault_check_reserved_lock(sqlite3_file *file, int *out)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xCheckReservedLock(real, out);
}

static int fault_file_control(sqlite3_file *file, int op, void *arg)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xFileControl(real, op, arg);
}

static int fault_sector_size(sqlite3_file *file)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xSectorSize(real);
}

static int fault_device_characteristics(sqlite3_file *file)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xDeviceCharacteristics(real);
}

static int fault_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out)
{
    sqlite3_file *real = real_of(file);

    if (step_fails())
        return SQLITE_IOERR_SHMMAP;
    return real->pMethods->xShmMap(real, region, size, extend, out);
}

static int fault_shm_lock(sqlite3_file *file, int offset, int n, int flags)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xShmLock(real, offset, n, flags);
}

static void fault_shm_barrier(sqlite3_file *file)
{
    sqlite3_file *real = real_of(file);

    real->pMethods->xShmBarrier(real);
}

static int fault_shm_unmap(sqlite3_file *file, int delete_flag)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xShmUnmap(real, delete_flag);
}

static int fault_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xFetch(real, offset, amount, out);
}

static int fault_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *page)
{
    sqlite3_file *real = real_of(file);

    return real->pMethods->xUnfetch(real, offset, page);
}

static const sqlite3_io_methods fault_methods = {
    .iVersion = 3,
    .xClose = fault_close,
    .xRead = fault_read,
    .xWrite = fault_write,
    .xTruncate = fault_truncate,
    .xSync = fault_sync,
    .xFileSize = fault_file_size,
    .xLock = fault_lock,
    .xUnlock = fault_unlock,
    .xCheckReservedLock = fault_check_reserved_lock,
    .xFileControl = fault_file_control,
    .xSectorSize = fault_sector_size,
    .xDeviceCharacteristics = fault_device_characteristics,
    .xShmMap = fault_shm_map,
    .xShmLock = fault_shm_lock,
    .xShmBarrier = fault_shm_barrier,
    .xShmUnmap = fault_shm_unmap,
    .xFetch = fault_fetch,
    .xUnfetch = fault_unfetch,
};

static int fault_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
                      int *out_flags)
{
    struct fault_file *f = (struct fault_file *)file;
    int rc;

    (void)vfs;
    f->real = (sqlite3_file *)&f[1];
    memset(f->real, 0, (size_t)real_vfs->szOsFile);
    rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    /* SQLite closes a file whose pMethods is set, whether or not the open worked. */
    f->base.pMethods = f->real->pMethods ? &fault_methods : NULL;
    return rc;
}

static int fault_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int fault_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int fault_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void *fault_dl_open(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return real_vfs->xDlOpen(real_vfs, name);
}

static void fault_dl_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    real_vfs->xDlError(real_vfs, n, out);
}

static void (*fault_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void)
{
    (void)vfs;
    return real_vfs->xDlSym(real_vfs, handle, symbol);
}

static void fault_dl_close(sqlite3_vfs *vfs, void *handle)
{
    (void)vfs;
    real_vfs->xDlClose(real_vfs, handle);
}

static int fault_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xRandomness(real_vfs, n, out);
}

static int fault_sleep(sqlite3_vfs *vfs, int microseconds)
{
    (void)vfs;
    return real_vfs->xSleep(real_vfs, microseconds);
}

static int fault_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return real_vfs->xCurrentTime(real_vfs, out);
}

static int fault_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return real_vfs->xGetLastError ? real_vfs->xGetLastError(real_vfs, n, out) : 0;
}

static int fault_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    (void)vfs;
    return real_vfs->xCurrentTimeInt64(real_vfs, out);
}

void fault_vfs_install(void)
{
    if (real_vfs != NULL)
        return;
    real_vfs = sqlite3_vfs_find(NULL);
    if (real_vfs == NULL || real_vfs->iVersion < 2)
        abort();
    fault_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct fault_file) + real_vfs->szOsFile,
        .mxPathname = real_vfs->mxPathname,
        .zName = "fault",
        .xOpen = fault_open,
        .xDelete = fault_delete,
        .xAccess = fault_access,
        .xFullPathname = fault_full_pathname,
        .xDlOpen = fault_dl_open,
        .xDlError = fault_dl_error,
        .xDlSym = fault_dl_sym,
        .xDlClose = fault_dl_close,
        .xRandomness = fault_randomness,
        .xSleep = fault_sleep,
        .xCurrentTime = fault_current_time,
        .xGetLastError = fault_get_last_error,
        .xCurrentTimeInt64 = fault_current_time_int64,
    };
    if (sqlite3_vfs_register(&fault_vfs, 1) != SQLITE_OK)
        abort();
}
