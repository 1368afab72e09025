/* SPDX-License-Identifier: Apache-2.0 */
/* A test VFS: a shim over SQLite's default VFS that counts the I/O steps of every
 * file (read, write, sync, truncate, lock, shared-memory map) and fails the Nth,
 * or every one from the Nth on, with the error a disk gives. Registered as the
 * default VFS, so every connection the service opens goes through it; tests only. */
#ifndef TESTS_FAULTS_FAULT_VFS_H
#define TESTS_FAULTS_FAULT_VFS_H

#include <stdbool.h>
#include <stdint.h>

enum fault_mode {
    FAULT_OFF,   /* count nothing, fail nothing */
    FAULT_COUNT, /* count steps, fail nothing */
    FAULT_NTH,   /* fail exactly step n */
    FAULT_FROM,  /* fail step n and every step after it */
};

/* Registers the shim as the default VFS. Call before any connection is opened. */
void fault_vfs_install(void);

/* Starts counting from zero in mode, failing step n (1-based) as the mode says. */
void fault_vfs_arm(enum fault_mode mode, uint64_t n);

/* Stops failing and counting; returns the steps counted since fault_vfs_arm. */
uint64_t fault_vfs_disarm(void);

/* How many steps were failed since fault_vfs_arm. */
uint64_t fault_vfs_failed(void);

#endif
