/* SPDX-License-Identifier: Apache-2.0 */
/* Field-level validation errors: formatting only, no I/O. */
#include "field_error.h"

#include <stdarg.h>
#include <stdio.h>

void core_field_error_set(struct core_field_error *fe, const char *pointer, const char *fmt, ...)
{
    va_list ap;

    if (!fe)
        return;
    snprintf(fe->pointer, sizeof fe->pointer, "%s", pointer ? pointer : "");
    va_start(ap, fmt);
    vsnprintf(fe->message, sizeof fe->message, fmt, ap);
    va_end(ap);
}

void core_field_error_clear(struct core_field_error *fe)
{
    if (!fe)
        return;
    fe->pointer[0] = '\0';
    fe->message[0] = '\0';
}
