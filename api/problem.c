/* RFC 9457 problem details: the single exit for error answers. Builds the
 * application/problem+json body, logs the failure and counts nothing it should
 * not: 5xx answers never carry internal text. */
#include "internal.h"
#include "log.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBLEM_TYPE_BASE "https://carbontree.dev/problems/"

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

void api_problem_render(enum err rc, const struct api_request *req, struct api_reply *reply)
{
    int status = err_http_status(rc);
    char type[128];
    json_t *body, *errors;
    const char *detail = reply->problem.detail;

    if (rc == ERR_SHUTTING_DOWN) {
        /* Not a failure: the process was asked to stop. */
        detail = "the server is shutting down; retry after the indicated delay";
    } else if (status >= 500) {
        /* Internals go to the log with the request id, never to the client. */
        log_write(LOG_ERROR, req ? req->request_id : NULL, "%s %s failed: %s: %s%s%s",
                  req ? req->method : "-", req ? req->path : "-", err_name(rc),
                  detail[0] ? detail : "(no detail)",
                  db_thread_last_error()[0] ? "; storage: " : "", db_thread_last_error());
        if (rc == ERR_BUSY)
            detail = "the database is busy; retry after the indicated delay";
        else if (rc == ERR_FULL)
            detail = "the server has no storage space left for this write; nothing was stored";
        else if (rc == ERR_IO)
            detail = "storage is temporarily unavailable; nothing was stored";
        else
            detail = "an internal error occurred; the request id identifies it in the logs";
    }
    if (detail[0] == '\0')
        detail = err_title(rc);
    if (detail == reply->problem.detail)
        utf8_repair(reply->problem.detail);
    for (size_t i = 0; i < reply->problem.n_errors; i++) {
        utf8_repair(reply->problem.errors[i].pointer);
        utf8_repair(reply->problem.errors[i].message);
    }
    snprintf(type, sizeof type, PROBLEM_TYPE_BASE "%s", err_slug(rc));
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
    for (size_t i = 0; body && errors && i < reply->problem.n_errors && status < 500; i++) {
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
    if (rc == ERR_BUSY || rc == ERR_IO || rc == ERR_SHUTTING_DOWN || rc == ERR_RATE_LIMITED) {
        char seconds[16];
        int retry = reply->problem.retry_after_s > 0 ? reply->problem.retry_after_s : 1;
        snprintf(seconds, sizeof seconds, "%d", retry);
        api_reply_header(reply, "Retry-After", seconds);
    }
    if (status < 500)
        log_write(LOG_DEBUG, req ? req->request_id : NULL, "%d %s: %s", status, err_slug(rc),
                  detail);
}
