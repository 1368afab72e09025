/* SPDX-License-Identifier: Apache-2.0 */
/* CSV tokenizer: a single pass over a borrowed buffer. No I/O, no allocation. */
#include "csv.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

/* Output cursor into the caller's buffer. */
struct sink {
    char *buf;
    size_t len;
    size_t used;
    bool is_full;
};

void core_csv_init(struct core_csv *csv, const char *data, size_t len)
{
    static const char bom[] = "\xEF\xBB\xBF";

    assert(csv && (data || len == 0));
    csv->data = data;
    csv->len = len;
    csv->pos = 0;
    csv->line = 1;
    if (len >= 3 && memcmp(data, bom, 3) == 0)
        csv->pos = 3;
}

static void put(struct sink *s, char c)
{
    if (s->used >= s->len) {
        s->is_full = true;
        return;
    }
    s->buf[s->used++] = c;
}

static bool at_line_end(const struct core_csv *csv)
{
    return csv->pos >= csv->len || csv->data[csv->pos] == '\n' || csv->data[csv->pos] == '\r';
}

/* Consumes one line end (CRLF, LF or CR) if present. */
static void eat_line_end(struct core_csv *csv)
{
    if (csv->pos < csv->len && csv->data[csv->pos] == '\r') {
        csv->pos++;
        if (csv->pos < csv->len && csv->data[csv->pos] == '\n')
            csv->pos++;
        csv->line++;
    } else if (csv->pos < csv->len && csv->data[csv->pos] == '\n') {
        csv->pos++;
        csv->line++;
    }
}

static void skip_empty_lines(struct core_csv *csv)
{
    while (csv->pos < csv->len && (csv->data[csv->pos] == '\n' || csv->data[csv->pos] == '\r'))
        eat_line_end(csv);
}

/* Reads a quoted field; pos is on the opening quote. Returns false when the quote
 * never closes or the closing quote is followed by something other than a
 * separator or a line end. */
static bool read_quoted(struct core_csv *csv, struct sink *s, const char **why)
{
    csv->pos++;
    for (;;) {
        char c;

        if (csv->pos >= csv->len) {
            *why = "unterminated quoted field";
            return false;
        }
        c = csv->data[csv->pos++];
        if (c == '"') {
            if (csv->pos < csv->len && csv->data[csv->pos] == '"') {
                put(s, '"');
                csv->pos++;
                continue;
            }
            break;
        }
        if (c == '\n' || (c == '\r' && !(csv->pos < csv->len && csv->data[csv->pos] == '\n')))
            csv->line++;
        put(s, c);
    }
    if (!at_line_end(csv) && csv->data[csv->pos] != ',') {
        *why = "unexpected character after a closing quote";
        return false;
    }
    return true;
}

/* Reads an unquoted field up to a separator or line end. A stray quote inside an
 * unquoted field is kept as text. */
static void read_plain(struct core_csv *csv, struct sink *s)
{
    while (!at_line_end(csv) && csv->data[csv->pos] != ',')
        put(s, csv->data[csv->pos++]);
}

/* Moves past the physical line that starts at start (used after an error). */
static void resync(struct core_csv *csv, size_t start, unsigned long line)
{
    csv->pos = start;
    csv->line = line;
    while (!at_line_end(csv))
        csv->pos++;
    eat_line_end(csv);
}

static enum err fail(struct core_csv *csv, size_t start, unsigned long line, const char *why,
                     struct core_field_error *fe)
{
    core_field_error_set(fe, "", "line %lu: %s", line, why);
    resync(csv, start, line);
    return ERR_INVALID_INPUT;
}

enum err core_csv_next(struct core_csv *csv, char *buf, size_t buf_len, struct core_csv_row *row,
                       struct core_field_error *fe)
{
    struct sink s = {buf, buf_len, 0, false};
    const char *why = NULL;
    size_t start;

    assert(csv && buf && row);
    skip_empty_lines(csv);
    if (csv->pos >= csv->len)
        return ERR_NOT_FOUND;
    start = csv->pos;
    row->line = csv->line;
    row->n_fields = 0;
    for (;;) {
        size_t field_start = s.used;

        if (row->n_fields >= CORE_CSV_MAX_FIELDS)
            return fail(csv, start, row->line, "too many fields", fe);
        if (csv->pos < csv->len && csv->data[csv->pos] == '"') {
            if (!read_quoted(csv, &s, &why))
                return fail(csv, start, row->line, why, fe);
        } else {
            read_plain(csv, &s);
        }
        put(&s, '\0');
        if (s.is_full)
            return fail(csv, start, row->line, "record too long", fe);
        row->fields[row->n_fields] = buf + field_start;
        row->lens[row->n_fields] = s.used - field_start - 1;
        row->n_fields++;
        if (at_line_end(csv))
            break;
        csv->pos++; /* the ',' */
    }
    eat_line_end(csv);
    return ERR_OK;
}
