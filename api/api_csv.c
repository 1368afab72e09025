/* SPDX-License-Identifier: Apache-2.0 */
/* CSV answers (RFC 4180: CRLF line ends, a header row, fields quoted when they hold
 * a separator, a quote or a line break) built row by row in a growing buffer. */
#include "api_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool api_csv_wanted(const struct api_request *req)
{
    const char *format = api_query_get(req, "format");

    /* The query names the form outright, for links and browsers that cannot
     * set Accept; it wins over the header. */
    if (format)
        return strcmp(format, "csv") == 0;
    return req->accept && strstr(req->accept, "text/csv") != NULL &&
           strstr(req->accept, "application/json") == NULL;
}

enum err api_csv_format_check(const struct api_request *req, struct api_problem *problem)
{
    const char *format = api_query_get(req, "format");

    if (format == NULL || strcmp(format, "csv") == 0 || strcmp(format, "json") == 0)
        return ERR_OK;
    api_field_error(problem, "format", "one of csv, json");
    return api_fail(problem, ERR_BAD_REQUEST, "query parameter 'format' is not one of csv, json");
}

const char *api_csv_format_param(const struct api_request *req)
{
    const char *format = api_query_get(req, "format");

    if (format == NULL)
        return "";
    return strcmp(format, "csv") == 0 ? "&format=csv" : "&format=json";
}

void api_csv_attachment(struct api_reply *reply, const struct core_model_id *id, const char *what)
{
    char value[320];

    /* Ids are letters, digits, '.', '_' and '-': safe in a quoted file name. */
    if (id)
        snprintf(value, sizeof value, "attachment; filename=\"%s_%s_%s.csv\"", id->ns, id->name,
                 what);
    else
        snprintf(value, sizeof value, "attachment; filename=\"%s.csv\"", what);
    api_reply_header(reply, "Content-Disposition", value);
}

void api_csv_raw(struct api_csv *csv, const char *text, size_t len)
{
    core_buf_append(&csv->buf, text, len);
}

/* The separator before every field but a row's first. */
static void separate(struct api_csv *csv)
{
    if (csv->is_row_open)
        api_csv_raw(csv, ",", 1);
    csv->is_row_open = true;
}

void api_csv_field(struct api_csv *csv, const char *text)
{
    const char *p;

    separate(csv);
    if (text == NULL)
        return;
    if (strpbrk(text, ",\"\r\n") == NULL) {
        api_csv_raw(csv, text, strlen(text));
        return;
    }
    api_csv_raw(csv, "\"", 1);
    for (p = text; *p; p++) {
        if (*p == '"')
            api_csv_raw(csv, "\"\"", 2);
        else
            api_csv_raw(csv, p, 1);
    }
    api_csv_raw(csv, "\"", 1);
}

void api_csv_text(struct api_csv *csv, const char *text)
{
    /* Free text that a spreadsheet would run as a formula (=, +, -, @, or a leading
     * tab or carriage return) is kept as text with a leading apostrophe (OWASP CSV
     * injection). Ids and figures never start so and go through api_csv_field. */
    if (text && text[0] && strchr("=+-@\t\r", text[0]) != NULL) {
        size_t len = strlen(text);
        char *guarded = core_malloc(len + 2);
        if (guarded == NULL) {
            csv->buf.failed = true;
            return;
        }
        guarded[0] = '\'';
        memcpy(guarded + 1, text, len + 1);
        api_csv_field(csv, guarded);
        free(guarded);
        return;
    }
    api_csv_field(csv, text);
}

bool api_csv_wanted_vary(const struct api_request *req, struct api_reply *reply)
{
    /* The answer depends on Accept: caches must keep the JSON and CSV forms apart. */
    api_reply_header(reply, "Vary", "Accept");
    return api_csv_wanted(req);
}

void api_csv_number(struct api_csv *csv, double value)
{
    char number[40];

    /* 15 significant digits, as in the JSON answers (JSON_REAL_PRECISION(15)). */
    snprintf(number, sizeof number, "%.15g", value);
    api_csv_field(csv, number);
}

void api_csv_integer(struct api_csv *csv, int64_t value)
{
    char number[24];

    snprintf(number, sizeof number, "%lld", (long long)value);
    api_csv_field(csv, number);
}

void api_csv_row_end(struct api_csv *csv)
{
    api_csv_raw(csv, "\r\n", 2);
    csv->is_row_open = false;
}

void api_csv_header(struct api_csv *csv, const char *names)
{
    api_csv_raw(csv, names, strlen(names));
    api_csv_row_end(csv);
}

enum err api_csv_reply(struct api_csv *csv, struct api_reply *reply)
{
    if (csv->buf.failed) {
        api_csv_cleanup(csv);
        return ERR_NO_MEMORY;
    }
    reply->raw = core_buf_steal(&csv->buf, &reply->raw_len);
    reply->content_type = "text/csv; charset=utf-8";
    reply->status = 200;
    csv->is_row_open = false;
    return ERR_OK;
}

void api_csv_cleanup(struct api_csv *csv)
{
    core_buf_cleanup(&csv->buf);
    csv->is_row_open = false;
}
