/* Lookups over the error table in err.h. */
#include "err.h"

#include <assert.h>

struct err_row {
    const char *name;
    int status;
    const char *slug;
    const char *title;
};

static const struct err_row err_rows[] = {
#define ERR_ROW(name, status, slug, title) {#name, status, slug, title},
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
