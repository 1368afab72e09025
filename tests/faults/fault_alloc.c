/* SPDX-License-Identifier: Apache-2.0 */
/* The allocation hooks: each allocator asks fails() first, then allocates as
 * before (SQLite's own methods; malloc for the core, and so for jansson). */
#include "fault_alloc.h"

#include "alloc.h"
#include "api.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>

static sqlite3_mem_methods sqlite_methods; /* SQLite's own, wrapped */
static _Atomic int mode = FAULT_OFF;
static _Atomic uint64_t n_allocations, fail_at, n_failed;

void fault_alloc_arm(enum fault_mode new_mode, uint64_t n)
{
    atomic_store(&n_allocations, 0);
    atomic_store(&n_failed, 0);
    atomic_store(&fail_at, n);
    atomic_store(&mode, (int)new_mode);
}

uint64_t fault_alloc_disarm(void)
{
    atomic_store(&mode, FAULT_OFF);
    return atomic_load(&n_allocations);
}

uint64_t fault_alloc_failed(void)
{
    return atomic_load(&n_failed);
}

static bool fails(void)
{
    int m = atomic_load(&mode);
    uint64_t n;

    if (m == FAULT_OFF)
        return false;
    n = atomic_fetch_add(&n_allocations, 1) + 1;
    if ((m == FAULT_NTH && n == atomic_load(&fail_at)) ||
        (m == FAULT_FROM && n >= atomic_load(&fail_at))) {
        atomic_fetch_add(&n_failed, 1);
        if (getenv("CARBONTREE_FAULT_TRAP") &&
            (uint64_t)atoll(getenv("CARBONTREE_FAULT_TRAP")) == n)
            __builtin_trap(); /* stops a debugger at the failing allocation */
        return true;
    }
    return false;
}

static void *sqlite_malloc(int size)
{
    return fails() ? NULL : sqlite_methods.xMalloc(size);
}

static void *sqlite_realloc(void *p, int size)
{
    return fails() ? NULL : sqlite_methods.xRealloc(p, size);
}

void fault_alloc_install(void)
{
    sqlite3_mem_methods hooked;

    if (sqlite3_config(SQLITE_CONFIG_GETMALLOC, &sqlite_methods) != SQLITE_OK)
        abort();
    hooked = sqlite_methods;
    hooked.xMalloc = sqlite_malloc;
    hooked.xRealloc = sqlite_realloc;
    if (sqlite3_config(SQLITE_CONFIG_MALLOC, &hooked) != SQLITE_OK)
        abort();
    /* jansson allocates through the service's allocator (core_malloc, which asks
     * fails() below), as the server installs it. */
    api_json_install_allocator();
    core_alloc_set_fail_hook(fails);
}
