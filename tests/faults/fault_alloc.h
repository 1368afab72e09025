/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation failure on demand: SQLite's allocator (SQLITE_CONFIG_MALLOC), jansson's
 * (json_set_alloc_funcs) and carbontree's own (core_alloc_set_fail_hook) share one
 * counter, so "the Nth allocation" is the Nth of the three together. Tests only. */
#ifndef TESTS_FAULTS_FAULT_ALLOC_H
#define TESTS_FAULTS_FAULT_ALLOC_H

#include "fault_vfs.h" /* enum fault_mode */

#include <stdint.h>

/* Installs the three hooks. Call first thing in main, before SQLite initialises. */
void fault_alloc_install(void);

/* Starts counting allocations from zero in mode, failing the nth as mode says. */
void fault_alloc_arm(enum fault_mode mode, uint64_t n);

/* Stops failing and counting; returns the allocations counted since arming. */
uint64_t fault_alloc_disarm(void);

/* How many allocations were failed since fault_alloc_arm. */
uint64_t fault_alloc_failed(void);

#endif
