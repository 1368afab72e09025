/* SPDX-License-Identifier: Apache-2.0 */
/* carbontree's own heap allocations go through these, so that a test can make the
 * Nth of them fail (the out-of-memory sweep). The memory is malloc's: free() frees
 * it, and it may be handed to anything that frees with free(). Without a hook they
 * are malloc, calloc, realloc and strdup. */
#ifndef CORE_ALLOC_H
#define CORE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

void *core_malloc(size_t size);
void *core_calloc(size_t n, size_t size);
void *core_realloc(void *p, size_t size);
char *core_strdup(const char *s);

/* Asked before each allocation above; true makes it fail (NULL, as malloc does
 * when memory runs out). NULL removes the hook. Set it before other threads
 * allocate: it is read without a lock. */
typedef bool (*core_alloc_fail_fn)(void);
void core_alloc_set_fail_hook(core_alloc_fail_fn hook);

#endif
