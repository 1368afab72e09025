/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 9457 problem details: the single exit for error answers. Builds the
 * application/problem+json body, logs the failure and counts nothing it should
 * not: 5xx answers never carry internal text. */
#include "api_internal.h"
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The request path as a URI reference: bytes outside RFC 3986 pchar and '/' are
 * percent-encoded (the server hands over the decoded path). */
static void uri_reference(const char *path, char *buf, size_t buf_len)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (; *path && n + 4 < buf_len; path++) {
        unsigned char c = (unsigned char)*path;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~!$&'()*+,;=:@/", c) != NULL) {
            buf[n++] = (char)c;
        } else {
            buf[n++] = '%';
            buf[n++] = hex[c >> 4];
            buf[n++] = hex[c & 15];
        }
    }
    buf[n] = '\0';
}

/* Makes text valid UTF-8 in place: every byte that does not begin a well-formed
 * sequence becomes '?'. Details echo client input (ids, keys, paths) and may have
 * been cut in the middle of a character; JSON must not carry either. */
static void utf8_repair(char *text)
{
    unsigned char *p = (unsigned char *)text;

    while (*p) {
        size_t len = *p < 0x80             ? 1
                     : (*p & 0xe0) == 0xc0 ? 2
                     : (*p & 0xf0) == 0xe0 ? 3
                     : (*p & 0xf8) == 0xf0 ? 4
                                           : 0;
        bool is_ok = len > 0 && !(len == 2 && *p < 0xc2) && !(len == 4 && *p > 0xf4);
        for (size_t i = 1; is_ok && i < len; i++)
            is_ok = (p[i] & 0xc0) == 0x80;
        if (is_ok && len == 3) {
            unsigned cp = ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
            is_ok = cp >= 0x800 && (cp < 0xd800 || cp > 0xdfff);
        }
        if (is_ok && len == 4) {
            unsigned cp = ((p[0] & 0x07u) << 18) | ((p[1] & 0x3fu) << 12);
            is_ok = cp >= 0x10000 && cp <= 0x10ffff;
        }
        if (!is_ok) {
            *p++ = '?';
            continue;
        }
        p += len;
    }
}

/* Logs a failure at the level its error's row names. When the answer withholds the
 * handler's detail, the log line keeps it, with the storage error, for the request
 * id to find. */
static void log_failure(enum err rc, const struct api_request *req, const char *handler_detail,
                        const char *detail)
{
    const char *request_id = req ? req->request_id : NULL;
    enum log_level level;

    switch (err_log_level(rc)) {
    case ERR_LOG_NONE:
        return;
    case ERR_LOG_DEBUG:
        level = LOG_DEBUG;
        break;
    case ERR_LOG_WARN:
        level = LOG_WARN;
        break;
    default:
        level = LOG_ERROR;
        break;
    }
    if (err_default_detail(rc) == NULL) {
        log_write(level, request_id, "%d %s: %s", err_http_status(rc), err_slug(rc), detail);
        return;
    }
    log_write(level, request_id, "%s %s failed: %s: %s%s%s", req ? req->method : "-",
              req ? req->path : "-", err_name(rc),
              handler_detail[0] ? handler_detail : "(no detail)",
              db_thread_last_error()[0] ? "; storage: " : "", db_thread_last_error());
}

void api_problem_render(enum err rc, const struct api_request *req, struct api_reply *reply)
{
    int status = err_http_status(rc);
    char type[128];
    json_t *body, *errors;
    /* The table's generic detail replaces the handler's where internals could leak. */
    const char *detail = err_default_detail(rc);
    bool is_withheld = detail != NULL;

    if (detail == NULL)
        detail = reply->problem.detail[0] ? reply->problem.detail : err_title(rc);
    if (detail == reply->problem.detail)
        utf8_repair(reply->problem.detail);
    for (size_t i = 0; i < reply->problem.n_errors; i++) {
        utf8_repair(reply->problem.errors[i].pointer);
        utf8_repair(reply->problem.errors[i].message);
    }
    snprintf(type, sizeof type, ERR_TYPE_BASE "%s", err_slug(rc));
    json_decref(reply->json);
    free(reply->raw);
    reply->raw = NULL;
    body = json_pack("{s:s, s:s, s:i, s:s}", "type", type, "title", err_title(rc), "status", status,
                     "detail", detail);
    if (body && req && req->path) {
        char instance[600];
        uri_reference(req->path, instance, sizeof instance);
        json_object_set_new(body, "instance", json_string(instance));
    }
    if (body && req && req->request_id)
        json_object_set_new(body, "request_id", json_string(req->request_id));
    errors = json_array();
    for (size_t i = 0; body && errors && i < reply->problem.n_errors && !is_withheld; i++) {
        json_array_append_new(errors,
                              json_pack("{s:s, s:s}", "pointer", reply->problem.errors[i].pointer,
                                        "message", reply->problem.errors[i].message));
    }
    if (body && errors)
        json_object_set_new(body, "errors", errors);
    else
        json_decref(errors);
    if (body == NULL) /* no memory: the fixed minimum of RFC 9457 */
        body = json_pack("{s:s, s:s, s:i}", "type", type, "title", err_title(rc), "status", status);
    reply->json = body;
    reply->status = status;
    reply->content_type = "application/problem+json";
    if (err_retry_after_s(rc) > 0) {
        char seconds[16];
        int retry = reply->problem.retry_after_s > err_retry_after_s(rc)
                        ? reply->problem.retry_after_s
                        : err_retry_after_s(rc);
        snprintf(seconds, sizeof seconds, "%d", retry);
        api_reply_header(reply, "Retry-After", seconds);
    }
    log_failure(rc, req, reply->problem.detail, detail);
}
