/* SPDX-License-Identifier: Apache-2.0 */
/* Lookups over the error table in err.h. */
#include "err.h"

#include <stddef.h>

struct err_row {
    const char *name;
    int status;
    const char *slug;
    const char *title;
    int retry_after_s;
    enum err_log_level log;
    const char *default_detail;
};

static const struct err_row err_rows[] = {
#define ERR_ROW(name, status, slug, title, retry_after_s, log, default_detail)                     \
    {#name, status, slug, title, retry_after_s, ERR_LOG_##log, default_detail},
    ERR_TABLE(ERR_ROW)
#undef ERR_ROW
};

static const struct err_row *err_row(enum err rc)
{
    if ((unsigned)rc >= ERR_COUNT)
        rc = ERR_INTERNAL;
    return &err_rows[rc];
}

int err_http_status(enum err rc)
{
    return err_row(rc)->status;
}

const char *err_slug(enum err rc)
{
    return err_row(rc)->slug;
}

const char *err_title(enum err rc)
{
    return err_row(rc)->title;
}

const char *err_name(enum err rc)
{
    return err_row(rc)->name;
}

int err_retry_after_s(enum err rc)
{
    return err_row(rc)->retry_after_s;
}

enum err_log_level err_log_level(enum err rc)
{
    return err_row(rc)->log;
}

const char *err_default_detail(enum err rc)
{
    return err_row(rc)->default_detail;
}
