/* SPDX-License-Identifier: Apache-2.0 */
/* A byte-oriented LZ77 codec (LZ4's block layout) for texts kept in memory: fast
 * to undo, a third to a half of a JSON answer's bytes. Pure: no I/O, no allocation. */
#ifndef CORE_LZ_H
#define CORE_LZ_H

#include <stdbool.h>
#include <stddef.h>

/* The most bytes core_lz_pack may write for len bytes of input. */
size_t core_lz_bound(size_t len);

/* Packs len bytes of in into out (room for cap bytes; core_lz_bound(len) always
 * suffices); returns the packed length, or 0 when it does not fit in cap. */
size_t core_lz_pack(const char *in, size_t len, char *out, size_t cap);

/* Unpacks packed_len bytes into out, which must come to exactly len bytes; false
 * when the input is not a packing of len bytes (out is then undefined). */
bool core_lz_unpack(const char *packed, size_t packed_len, char *out, size_t len);

#endif
