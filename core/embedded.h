/* SPDX-License-Identifier: Apache-2.0 */
/* A file compiled into the binary by cmake/Embed.cmake (migrations, the OpenAPI
 * document, reference data). Plain data; no I/O. */
#ifndef CORE_EMBEDDED_H
#define CORE_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *path;          /* path relative to the source tree */
    const unsigned char *data; /* NUL-terminated; data[len] == 0 */
    size_t len;
};

#endif
