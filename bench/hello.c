/* SPDX-License-Identifier: Apache-2.0 */
/* The reference for bench/run.sh: a bare libmicrohttpd server answering every
 * request with a small fixed body, with the daemon options carbontree uses (a
 * thread pool of one thread per core, epoll). Usage: hello PORT [THREADS] */
#include <microhttpd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char body[] = "{\"status\":\"ok\"}";

static enum MHD_Result answer(void *cls, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **req_cls)
{
    struct MHD_Response *response;
    enum MHD_Result ret;

    (void)cls;
    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    if (*req_cls == NULL) { /* first call: headers only */
        *req_cls = (void *)1;
        return MHD_YES;
    }
    if (*upload_data_size > 0) { /* discard a request body */
        *upload_data_size = 0;
        return MHD_YES;
    }
    response = MHD_create_response_from_buffer(sizeof body - 1, (void *)(uintptr_t)body,
                                               MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(response, "Content-Type", "application/json");
    ret = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    return ret;
}

int main(int argc, char **argv)
{
    unsigned port = argc > 1 ? (unsigned)atoi(argv[1]) : 8090;
    unsigned threads = argc > 2 ? (unsigned)atoi(argv[2]) : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    struct MHD_Daemon *daemon;
    sigset_t set;
    int sig;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL,
                              NULL, answer, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads,
                              MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_END);
    if (daemon == NULL) {
        fprintf(stderr, "hello: cannot listen on port %u\n", port);
        return 1;
    }
    sigwait(&set, &sig);
    MHD_stop_daemon(daemon);
    return 0;
}
