/* SPDX-License-Identifier: Apache-2.0 */
/* Building a handler's answer: status and JSON body, headers, and the ETags of
 * versioned resources and of JSON texts written directly. */
#include "reply.h"

#include "alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void api_reply_init(struct api_reply *reply)
{
    memset(reply, 0, sizeof *reply);
}

void api_reply_cleanup(struct api_reply *reply)
{
    json_decref(reply->json);
    free(reply->raw);
    if (reply->stream)
        reply->stream->free(reply->stream);
    reply->json = NULL;
    reply->raw = NULL;
    reply->stream = NULL;
}

void api_reply_header(struct api_reply *reply, const char *name, const char *value)
{
    for (size_t i = 0; i < reply->n_headers; i++) {
        if (strcmp(reply->headers[i].name, name) == 0) {
            snprintf(reply->headers[i].value, sizeof reply->headers[i].value, "%s", value);
            return;
        }
    }
    if (reply->n_headers == API_MAX_HEADERS)
        return;
    reply->headers[reply->n_headers].name = name;
    snprintf(reply->headers[reply->n_headers].value, sizeof reply->headers[0].value, "%s", value);
    reply->n_headers++;
}

const char *api_reply_header_get(const struct api_reply *reply, const char *name)
{
    for (size_t i = 0; i < reply->n_headers; i++)
        if (strcmp(reply->headers[i].name, name) == 0)
            return reply->headers[i].value;
    return NULL;
}

void api_json_set(json_t **container, const char *key, json_t *value)
{
    if (*container == NULL) {
        json_decref(value);
    } else if (value == NULL || json_object_set_new(*container, key, value) != 0) {
        json_decref(*container);
        *container = NULL;
    }
}

void api_json_append(json_t **container, json_t *value)
{
    if (*container == NULL) {
        json_decref(value);
    } else if (value == NULL || json_array_append_new(*container, value) != 0) {
        json_decref(*container);
        *container = NULL;
    }
}

json_t *api_json_copy(const json_t *json)
{
    json_t *copy = json_copy((json_t *)(uintptr_t)json);

    /* json_equal allocates nothing: it cannot fail the way the copy can */
    if (copy != NULL && !json_equal(copy, json)) {
        json_decref(copy);
        return NULL;
    }
    return copy;
}

json_t *api_json_deep_copy(const json_t *json)
{
    json_t *copy = json_deep_copy(json);

    if (copy != NULL && !json_equal(copy, json)) {
        json_decref(copy);
        return NULL;
    }
    return copy;
}

/* jansson 2.14's lexer ignores a failure to grow the buffer it keeps a token in:
 * it drops the character and reads on, so a value can differ from its text, and a
 * dropped closing quote makes it decode the string past the buffer's end (a heap
 * overflow). So no allocation fails inside a reading: jansson allocates through
 * json_malloc below, which, when memory runs out during a reading, serves the
 * request from a reserve set aside before the reading began, marks the reading
 * failed and ends its input at the next request for more. The reading then
 * discards what it read and says out of memory. Until then jansson can ask for at
 * most a doubling of its token buffer (twice the text) or of one array or object
 * (eight bytes an element, an element at least one byte of text and its comma),
 * and the values of one chunk of input: eight times the text and 64 KiB bound it. */
struct reading {
    char *reserve;
    size_t size, used;
    bool active, failed;
};
static _Thread_local struct reading reading;

static void *json_malloc(size_t size)
{
    void *p = core_malloc(size);
    size_t at = (reading.used + 15) & ~(size_t)15;

    if (p != NULL || !reading.active)
        return p;
    reading.failed = true;
    if (at > reading.size || size > reading.size - at)
        return NULL;
    reading.used = at + size;
    return reading.reserve + at;
}

static void json_free(void *p)
{
    if (p != NULL && reading.reserve != NULL && (char *)p >= reading.reserve &&
        (char *)p < reading.reserve + reading.size)
        return; /* the reserve is freed whole when the reading ends */
    free(p);
}

void api_json_install_allocator(void)
{
    json_set_alloc_funcs(json_malloc, json_free);
}

struct input {
    const char *text;
    size_t left;
};

static size_t next_chunk(void *buffer, size_t size, void *data)
{
    struct input *in = data;
    size_t n = in->left < size ? in->left : size;

    if (reading.failed)
        return (size_t)-1; /* the reading ends here, as on a read error */
    memcpy(buffer, in->text, n);
    in->text += n;
    in->left -= n;
    return n;
}

static void set_out_of_memory(json_error_t *error)
{
    snprintf(error->text, sizeof error->text, "%s", "out of memory");
    /* where json_error_code() reads the code */
    error->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)json_error_out_of_memory;
}

/* One reading of text with the reserve above. */
static json_t *read_text(const char *text, size_t len, size_t flags, json_error_t *error)
{
    struct input in = {text, len};
    const size_t extra = 64 * 1024;
    json_t *value;

    reading.size = len > (SIZE_MAX - extra) / 8 ? 0 : 8 * len + extra;
    reading.reserve = reading.size ? core_malloc(reading.size) : NULL;
    if (reading.reserve == NULL) {
        set_out_of_memory(error);
        return NULL;
    }
    reading.used = 0;
    reading.failed = false;
    reading.active = true;
    value = json_load_callback(next_chunk, &in, flags, error);
    reading.active = false;
    if (reading.failed) {
        json_decref(value); /* before the reserve it may lie in goes */
        value = NULL;
        set_out_of_memory(error);
    }
    free(reading.reserve);
    reading.reserve = NULL;
    return value;
}

json_t *api_json_loadb(const char *text, size_t len, size_t flags, json_error_t *error)
{
    json_error_t own;
    json_t *first, *second;

    if (error == NULL)
        error = &own;
    first = read_text(text, len, flags, error);
    if (first == NULL)
        return NULL;
    second = read_text(text, len, flags, error);
    if (second != NULL && json_equal(first, second)) {
        json_decref(second);
        return first;
    }
    json_decref(first);
    json_decref(second);
    set_out_of_memory(error);
    return NULL;
}

enum err api_json_decode(const char *text, size_t len, size_t flags, json_t **out,
                         json_error_t *error)
{
    *out = api_json_loadb(text, len, flags, error);
    if (*out == NULL && json_error_code(error) != json_error_out_of_memory)
        *out = api_json_loadb(text, len, flags, error);
    if (*out != NULL)
        return ERR_OK;
    /* When its lexer cannot even start (no memory for its buffer), json_loadb fails
     * with no error text at all. */
    if (json_error_code(error) == json_error_out_of_memory || error->text[0] == '\0')
        return ERR_NO_MEMORY;
    return ERR_MALFORMED_JSON;
}

json_t *api_json_loads(const char *text, size_t flags, json_error_t *error)
{
    return api_json_loadb(text, strlen(text), flags, error);
}

enum err api_reply_json(struct api_reply *reply, int status, json_t *body)
{
    if (body == NULL)
        return ERR_NO_MEMORY;
    json_decref(reply->json);
    reply->json = body;
    reply->status = status;
    return ERR_OK;
}

/* Eight bytes a step, each mixed in by a multiply and a shift: equal bytes give
 * equal tags, which is all a weak tag needs, at a fraction of a byte-wise hash's
 * cost over a family page. */
static void etag_of(const char *text, size_t len, char *buf, size_t buf_len)
{
    uint64_t h = 14695981039346656037ULL ^ len;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, text + i, 8);
        h = (h ^ word) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 32;
    }
    for (; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ULL;
    h ^= h >> 29;
    snprintf(buf, buf_len, "W/\"%016llx\"", (unsigned long long)h);
}

static bool wants_pretty(const struct api_request *req)
{
    const char *pretty = api_query_get(req, "pretty");

    return pretty && strcmp(pretty, "0") != 0 && strcmp(pretty, "false") != 0;
}

enum err api_reply_text_etag(const struct api_request *req, struct api_reply *reply, char *text,
                             size_t len)
{
    char etag[48];

    etag_of(text, len - 1, etag, sizeof etag);
    api_reply_header(reply, "ETag", etag);
    if (api_etag_matches(req->if_none_match, etag)) {
        free(text);
        reply->status = 304;
        return ERR_OK;
    }
    if (wants_pretty(req)) {
        /* Read back for the server to indent: 15 significant digits survive the
         * trip (DBL_DIG), so the figures print as they would have. */
        json_t *body = api_json_loadb(text, len, 0, NULL);
        free(text);
        return api_reply_json(reply, 200, body);
    }
    free(reply->raw);
    reply->raw = text;
    reply->raw_len = len;
    reply->content_type = "application/json";
    reply->status = 200;
    return ERR_OK;
}

enum err api_reply_bytes_etag(const struct api_request *req, struct api_reply *reply, char *bytes,
                              size_t len, const char *content_type)
{
    char etag[48];

    etag_of(bytes, len, etag, sizeof etag);
    api_reply_header(reply, "ETag", etag);
    if (api_etag_matches(req->if_none_match, etag)) {
        free(bytes);
        reply->status = 304;
        return ERR_OK;
    }
    free(reply->raw);
    reply->raw = bytes;
    reply->raw_len = len;
    reply->content_type = content_type;
    reply->status = 200;
    return ERR_OK;
}

void api_etag(int64_t version, char *buf, size_t buf_len)
{
    snprintf(buf, buf_len, "\"v%lld\"", (long long)version);
}

bool api_etag_matches(const char *header, const char *etag)
{
    const char *p = header;
    size_t etag_len;

    if (header == NULL)
        return false;
    /* Weak comparison (RFC 9110 8.8.3.2): the W/ prefix matters on neither side. */
    if (strncmp(etag, "W/", 2) == 0)
        etag += 2;
    etag_len = strlen(etag);
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        if (strncmp(p, etag, etag_len) == 0 &&
            (p[etag_len] == '\0' || p[etag_len] == ',' || p[etag_len] == ' '))
            return true;
        while (*p && *p != ',')
            p++;
    }
    return false;
}
