/* SPDX-License-Identifier: Apache-2.0 */
/* A model card's YAML front matter as jansson values, through libyaml's event
 * API. Plain scalars are typed as the YAML 1.2 core schema types them (null,
 * booleans, integers, floats); digits grouped with underscores ("24_700_000",
 * YAML 1.1) are numbers too, since cards written for either version mean a
 * number there. Quoted scalars stay strings. */
#include "api_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define YAML_DEPTH_MAX   64 /* nesting deeper than any card's metadata */
#define YAML_ANCHORS_MAX 64

struct anchor {
    char *name;
    json_t *value;
};

struct reader {
    yaml_parser_t parser;
    struct anchor anchors[YAML_ANCHORS_MAX];
    size_t n_anchors;
    char *why;
    size_t why_len;
    bool is_out_of_memory; /* the failure is no fault of the text */
};

static bool is_one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* s without underscores between digits into buf; false when an underscore is
 * not between two digits or buf is too small. */
static bool strip_underscores(const char *s, char *buf, size_t buf_len)
{
    size_t n = 0;

    for (const char *p = s; *p; p++) {
        if (*p == '_') {
            bool digits_around =
                p > s && p[-1] >= '0' && p[-1] <= '9' && p[1] >= '0' && p[1] <= '9';
            if (!digits_around)
                return false;
            continue;
        }
        if (n + 1 >= buf_len)
            return false;
        buf[n++] = *p;
    }
    buf[n] = '\0';
    return true;
}

/* Whether s is a YAML 1.2 core schema integer ([-+]?[0-9]+) or float. */
static bool matches_number(const char *s, bool *is_integer)
{
    const char *p = s;
    bool digits = false, fraction = false, exponent = false;

    if (*p == '-' || *p == '+')
        p++;
    for (; *p >= '0' && *p <= '9'; p++)
        digits = true;
    if (*p == '.') {
        fraction = true;
        for (p++; *p >= '0' && *p <= '9'; p++)
            digits = true;
    }
    if (!digits)
        return false;
    if (*p == 'e' || *p == 'E') {
        bool exp_digits = false;
        exponent = true;
        p++;
        if (*p == '-' || *p == '+')
            p++;
        for (; *p >= '0' && *p <= '9'; p++)
            exp_digits = true;
        if (!exp_digits)
            return false;
    }
    *is_integer = !fraction && !exponent;
    return *p == '\0';
}

/* The JSON value of a plain scalar: null, a boolean, a number or the text. */
static json_t *plain_scalar(const char *s)
{
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL", NULL};
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    char digits[128];
    bool is_integer = false;

    if (is_one_of(s, nulls))
        return json_null();
    if (is_one_of(s, trues))
        return json_true();
    if (is_one_of(s, falses))
        return json_false();
    if (strip_underscores(s, digits, sizeof digits) && matches_number(digits, &is_integer)) {
        char *end = NULL;
        if (is_integer) {
            long long v;
            errno = 0;
            v = strtoll(digits, &end, 10);
            if (errno == 0 && end && *end == '\0')
                return json_integer((json_int_t)v);
        }
        errno = 0;
        {
            double d = strtod(digits, &end);
            if (errno == 0 && end && *end == '\0' && isfinite(d))
                return json_real(d);
        }
    }
    if ((s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) && s[2] != '\0') {
        char *end = NULL;
        long long v;
        errno = 0;
        v = strtoll(s + 2, &end, s[1] == 'x' ? 16 : 8);
        if (errno == 0 && end && *end == '\0')
            return json_integer((json_int_t)v);
    }
    return json_string(s);
}

static json_t *scalar_value(const yaml_event_t *e)
{
    const char *text = (const char *)e->data.scalar.value;
    const char *tag = (const char *)e->data.scalar.tag;

    if (tag && strcmp(tag, YAML_STR_TAG) == 0)
        return json_stringn(text, e->data.scalar.length);
    if (e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return json_stringn(text, e->data.scalar.length);
    return plain_scalar(text);
}

static bool fail(struct reader *r, const char *what, const yaml_mark_t *mark)
{
    snprintf(r->why, r->why_len, "front matter line %zu: %s", mark->line + 1, what);
    return false;
}

static bool remember(struct reader *r, const yaml_char_t *anchor, json_t *value)
{
    if (anchor == NULL)
        return true;
    if (r->n_anchors == YAML_ANCHORS_MAX)
        return false;
    r->anchors[r->n_anchors].name = core_strdup((const char *)anchor);
    if (r->anchors[r->n_anchors].name == NULL) {
        r->is_out_of_memory = true; /* a NULL name would be compared by recall */
        return false;
    }
    r->anchors[r->n_anchors].value = json_incref(value);
    r->n_anchors++;
    return true;
}

static json_t *recall(struct reader *r, const yaml_char_t *anchor)
{
    for (size_t i = r->n_anchors; i-- > 0;) {
        if (strcmp(r->anchors[i].name, (const char *)anchor) == 0) {
            json_t *copy = api_json_deep_copy(r->anchors[i].value);
            /* the anchor is there: only memory can be missing */
            r->is_out_of_memory = copy == NULL;
            return copy;
        }
    }
    return NULL;
}

/* Reads the node that begins with event e (already taken) into *out. */
static bool read_node(struct reader *r, yaml_event_t *e, int depth, json_t **out);

/* The next event's node: *out, or *end set when the event ends the collection. */
static bool next_node(struct reader *r, yaml_event_type_t end_type, int depth, json_t **out,
                      bool *end)
{
    yaml_event_t e;
    bool ok;

    if (!yaml_parser_parse(&r->parser, &e))
        return fail(r, r->parser.problem ? r->parser.problem : "not YAML", &r->parser.problem_mark);
    *end = e.type == end_type;
    if (*end) {
        yaml_event_delete(&e);
        return true;
    }
    ok = read_node(r, &e, depth, out);
    yaml_event_delete(&e);
    return ok;
}

static bool read_node(struct reader *r, yaml_event_t *e, int depth, json_t **out)
{
    json_t *value = NULL;
    bool end = false;

    *out = NULL;
    if (depth > YAML_DEPTH_MAX)
        return fail(r, "nested too deeply", &e->start_mark);
    switch (e->type) {
    case YAML_SCALAR_EVENT:
        value = scalar_value(e);
        if (value && !remember(r, e->data.scalar.anchor, value))
            return json_decref(value),
                   fail(r, r->is_out_of_memory ? "out of memory" : "too many anchors",
                        &e->start_mark);
        break;
    case YAML_ALIAS_EVENT:
        value = recall(r, e->data.alias.anchor);
        if (value == NULL && !r->is_out_of_memory)
            return fail(r, "an alias names no anchor", &e->start_mark);
        break;
    case YAML_SEQUENCE_START_EVENT:
        value = json_array();
        for (;;) {
            json_t *item = NULL;
            if (!next_node(r, YAML_SEQUENCE_END_EVENT, depth + 1, &item, &end))
                return json_decref(value), false;
            if (end)
                break;
            if (json_array_append_new(value, item) != 0) {
                json_decref(value);
                r->is_out_of_memory = true;
                return fail(r, "out of memory", &e->start_mark);
            }
        }
        if (!remember(r, e->data.sequence_start.anchor, value))
            return json_decref(value),
                   fail(r, r->is_out_of_memory ? "out of memory" : "too many anchors",
                        &e->start_mark);
        break;
    case YAML_MAPPING_START_EVENT:
        value = json_object();
        for (;;) {
            json_t *key = NULL, *item = NULL;
            char *key_text;
            if (!next_node(r, YAML_MAPPING_END_EVENT, depth + 1, &key, &end))
                return json_decref(value), false;
            if (end)
                break;
            key_text = json_is_string(key) ? core_strdup(json_string_value(key))
                                           : api_json_dumps(key, JSON_ENCODE_ANY | JSON_COMPACT);
            json_decref(key);
            if (!next_node(r, YAML_MAPPING_END_EVENT, depth + 1, &item, &end) || end) {
                free(key_text);
                json_decref(value);
                return end ? fail(r, "a key without a value", &e->start_mark) : false;
            }
            if (key_text == NULL || json_object_get(value, key_text) != NULL) {
                /* no text for the key: memory ran out, the key is no duplicate */
                r->is_out_of_memory = key_text == NULL;
                snprintf(r->why, r->why_len, "front matter: key '%.100s' is given twice",
                         key_text ? key_text : "");
                free(key_text);
                json_decref(item);
                json_decref(value);
                return false;
            }
            if (json_object_set_new(value, key_text, item) != 0) {
                free(key_text);
                json_decref(value);
                r->is_out_of_memory = true;
                return fail(r, "out of memory", &e->start_mark);
            }
            free(key_text);
        }
        if (!remember(r, e->data.mapping_start.anchor, value))
            return json_decref(value),
                   fail(r, r->is_out_of_memory ? "out of memory" : "too many anchors",
                        &e->start_mark);
        break;
    default:
        return fail(r, "unexpected YAML event", &e->start_mark);
    }
    if (value == NULL) {
        r->is_out_of_memory = true;
        return fail(r, "out of memory", &e->start_mark);
    }
    *out = value;
    return true;
}

/* The length of the front matter body: text after the opening "---" line up to
 * the closing "---" or "..." line. *body is where it begins. */
static bool find_front_matter(const char *text, size_t len, const char **body, size_t *body_len)
{
    const char *p = text, *end = text + len;

    if (len >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
        (unsigned char)p[2] == 0xBF)
        p += 3; /* a UTF-8 byte order mark */
    if (end - p < 3 || strncmp(p, "---", 3) != 0)
        return false;
    p += 3;
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
        p++;
    if (p == end || *p != '\n')
        return false;
    *body = ++p;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
        while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (n == 3 && (strncmp(p, "---", 3) == 0 || strncmp(p, "...", 3) == 0)) {
            *body_len = (size_t)(p - *body);
            return true;
        }
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    return false;
}

const char *api_front_matter_rest(const char *text, size_t len, size_t *rest_len)
{
    const char *body = NULL, *p;
    size_t body_len = 0;

    if (!find_front_matter(text, len, &body, &body_len))
        return NULL;
    p = memchr(body + body_len, '\n', len - (size_t)(body + body_len - text));
    if (p == NULL)
        return NULL;
    p++;
    *rest_len = len - (size_t)(p - text);
    for (size_t i = 0; i < *rest_len; i++)
        if (!isspace((unsigned char)p[i]))
            return p;
    return NULL;
}

enum err api_front_matter(const char *text, size_t len, json_t **out, char *why, size_t why_len)
{
    struct reader r;
    yaml_event_t e;
    const char *body = NULL;
    size_t body_len = 0;
    json_t *value = NULL;
    bool ok = true, done = false;

    *out = NULL;
    if (!find_front_matter(text, len, &body, &body_len)) {
        snprintf(why, why_len,
                 "no front matter: the file must begin with a line '---' and the "
                 "metadata end with another");
        return ERR_INVALID_INPUT;
    }
    memset(&r, 0, sizeof r);
    r.why = why;
    r.why_len = why_len;
    if (!yaml_parser_initialize(&r.parser))
        return ERR_NO_MEMORY;
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)body, body_len);
    while (ok && !done) {
        if (!yaml_parser_parse(&r.parser, &e)) {
            r.is_out_of_memory = r.parser.error == YAML_MEMORY_ERROR;
            ok = fail(&r, r.parser.problem ? r.parser.problem : "not YAML", &r.parser.problem_mark);
            break;
        }
        switch (e.type) {
        case YAML_STREAM_START_EVENT:
        case YAML_DOCUMENT_START_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            if (value != NULL)
                ok = fail(&r, "more than one document", &e.start_mark);
            else
                ok = read_node(&r, &e, 0, &value);
        }
        yaml_event_delete(&e);
    }
    yaml_parser_delete(&r.parser);
    for (size_t i = 0; i < r.n_anchors; i++) {
        free(r.anchors[i].name);
        json_decref(r.anchors[i].value);
    }
    if (ok && value == NULL)
        value = json_object(); /* empty front matter: a card that says nothing */
    if (ok && !json_is_object(value)) {
        snprintf(why, why_len, "front matter: the metadata must be a mapping");
        ok = false;
    }
    if (!ok) {
        json_decref(value);
        return r.is_out_of_memory ? ERR_NO_MEMORY : ERR_INVALID_INPUT;
    }
    *out = value;
    return ERR_OK;
}
