/* SPDX-License-Identifier: Apache-2.0 */
/* The allocation wrapper (alloc.h). */
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

static core_alloc_fail_fn fail_hook;

void core_alloc_set_fail_hook(core_alloc_fail_fn hook)
{
    fail_hook = hook;
}

static bool fails(void)
{
    return fail_hook != NULL && fail_hook();
}

void *core_malloc(size_t size)
{
    return fails() ? NULL : malloc(size);
}

void *core_calloc(size_t n, size_t size)
{
    return fails() ? NULL : calloc(n, size);
}

void *core_realloc(void *p, size_t size)
{
    return fails() ? NULL : realloc(p, size);
}

char *core_strdup(const char *s)
{
    return fails() ? NULL : strdup(s);
}
