/* The carbontree command: serve, migrate, version. Parses configuration, wires the
 * api service to the HTTP daemon and handles SIGTERM/SIGINT for a graceful stop. */
#include "api.h"
#include "config.h"
#include "db.h"
#include "http.h"
#include "log.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CARBONTREE_VERSION
#define CARBONTREE_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "carbontree %s - the carbon ledger of shared machine-learning models\n\n"
            "Usage: carbontree <command> [options]\n\n"
            "Commands:\n"
            "  serve     serve the HTTP API\n"
            "  migrate   create or upgrade the database schema, then exit\n"
            "  token     create, list or revoke API tokens:\n"
            "              token create --name NAME --scopes models:write,inferences:write\n"
            "                           --namespaces hub-a[,hub-b|*] [--admin] [options]\n"
            "              token list [options]\n"
            "              token revoke ID [options]\n"
            "  version   print the version and the schema version it needs\n"
            "  help      print this text; `carbontree <command> --help` for a command\n\n",
            CARBONTREE_VERSION);
    config_usage(out);
    fprintf(out, "\nCARBONTREE_ADMIN_TOKEN (environment only): when the database has no admin "
                 "token,\nthis value (24 to 512 characters) becomes its first one.\n");
}

static void api_config_from(const struct config *cfg, struct api_config *api)
{
    memset(api, 0, sizeof *api);
    api->db_path = cfg->db_path;
    api->busy_timeout_ms = cfg->busy_timeout_ms;
    api->body_max_bytes = cfg->body_max_bytes;
    api->max_page_count = cfg->max_page_count;
    api->auto_migrate = cfg->auto_migrate;
    api->admin_token = getenv("CARBONTREE_ADMIN_TOKEN");
    api->write_rate_per_s = cfg->write_rate_per_s;
    api->write_burst = cfg->write_burst;
    api->is_read_auth = cfg->is_read_auth;
    api->metrics_max_models = cfg->metrics_max_models;
    api->version = CARBONTREE_VERSION;
}

static bool write_port_file(const char *path, unsigned port)
{
    char tmp[4096];
    FILE *f;

    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    f = fopen(tmp, "w");
    if (f == NULL)
        return false;
    fprintf(f, "%u\n", port);
    if (fclose(f) != 0)
        return false;
    return rename(tmp, path) == 0;
}

static int cmd_migrate(const struct config *cfg)
{
    struct api_config api;
    char why[512] = "";
    int from = 0, to = 0;
    enum err rc;

    api_config_from(cfg, &api);
    rc = api_migrate(&api, &from, &to, why, sizeof why);
    if (rc != ERR_OK) {
        log_write(LOG_ERROR, NULL, "migrate: %s", why[0] ? why : err_name(rc));
        return 1;
    }
    log_write(LOG_INFO, NULL, "migrate: %s at schema version %d (was %d)", cfg->db_path, to, from);
    return 0;
}

static int cmd_serve(const struct config *cfg)
{
    struct api_config api;
    struct api_service *service = NULL;
    struct http_server *server = NULL;
    sigset_t signals;
    char why[512] = "";
    int sig = 0;
    enum err rc;

    /* Block the stop signals in every thread; the main thread waits for them. */
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    api_config_from(cfg, &api);
    rc = api_service_create(&api, &service, why, sizeof why);
    if (rc != ERR_OK) {
        log_write(LOG_ERROR, NULL, "cannot serve: %s", why[0] ? why : err_name(rc));
        return 1;
    }
    rc = http_start(cfg, service, &server, why, sizeof why);
    if (rc != ERR_OK) {
        log_write(LOG_ERROR, NULL, "cannot serve: %s", why);
        api_service_destroy(service);
        return 1;
    }
    log_write(LOG_INFO, NULL,
              "listening on %s port %u (database %s, %u threads, body cap %zu bytes)",
              cfg->listen_addr, http_port(server), cfg->db_path, cfg->threads, cfg->body_max_bytes);
    if (cfg->port_file && cfg->port_file[0] && !write_port_file(cfg->port_file, http_port(server)))
        log_write(LOG_WARN, NULL, "cannot write port file %s", cfg->port_file);

    sigwait(&signals, &sig);
    log_write(LOG_INFO, NULL, "%s received: finishing requests in flight, then stopping",
              sig == SIGTERM ? "SIGTERM" : "SIGINT");
    if (!http_stop(server, cfg->shutdown_grace_s * 1000u))
        log_write(LOG_WARN, NULL, "requests still running after %u s were cut off",
                  cfg->shutdown_grace_s);
    api_service_destroy(service);
    log_write(LOG_INFO, NULL, "stopped");
    return 0;
}

/* `carbontree token create|list|revoke`: the subcommand's own flags come first,
 * the rest are the usual options (--db ...). */
static int cmd_token(int argc, char **argv)
{
    const char *action = argc > 0 ? argv[0] : "";
    const char *name = NULL, *scopes = NULL, *namespaces = NULL, *id = NULL;
    char *rest[64];
    int n_rest = 0;
    struct config cfg;
    struct api_config api;
    bool help = false, is_admin = false;
    char why[512] = "";
    enum err rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
            name = argv[++i];
        else if (strcmp(argv[i], "--scopes") == 0 && i + 1 < argc)
            scopes = argv[++i];
        else if (strcmp(argv[i], "--namespaces") == 0 && i + 1 < argc)
            namespaces = argv[++i];
        else if (strcmp(argv[i], "--admin") == 0)
            is_admin = true;
        else if (argv[i][0] == '-' && n_rest < 63) {
            /* a service option, with its value when it takes one */
            rest[n_rest++] = argv[i];
            if (strchr(argv[i], '=') == NULL && config_flag_takes_value(argv[i]) && i + 1 < argc)
                rest[n_rest++] = argv[++i];
        } else if (id == NULL && strcmp(action, "revoke") == 0)
            id = argv[i];
        else if (n_rest < 64)
            rest[n_rest++] = argv[i];
    }
    if (!config_load_env(&cfg, stderr) || !config_parse_flags(&cfg, n_rest, rest, &help, stderr))
        return 2;
    if (help || (strcmp(action, "create") != 0 && strcmp(action, "list") != 0 &&
                 strcmp(action, "revoke") != 0)) {
        usage(help ? stdout : stderr);
        return help ? 0 : 2;
    }
    api_config_from(&cfg, &api);
    if (strcmp(action, "create") == 0) {
        if (is_admin) {
            scopes = "admin,models:write,inferences:write";
            namespaces = namespaces ? namespaces : "*";
        }
        rc = api_cli_token_create(&api, name, scopes, namespaces, stdout, why, sizeof why);
    } else if (strcmp(action, "list") == 0) {
        rc = api_cli_token_list(&api, stdout, why, sizeof why);
    } else {
        rc = api_cli_token_revoke(&api, id, why, sizeof why);
        if (rc == ERR_OK)
            fprintf(stderr, "token %s revoked\n", id);
    }
    if (rc != ERR_OK) {
        fprintf(stderr, "carbontree token %s: %s\n", action, why[0] ? why : err_name(rc));
        return rc == ERR_INVALID_INPUT || rc == ERR_NOT_FOUND ? 2 : 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct config cfg;
    const char *command = argc > 1 ? argv[1] : "help";
    bool help = false;

    if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 ||
        strcmp(command, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
        printf("carbontree %s (schema %d)\n", CARBONTREE_VERSION, db_schema_latest());
        return 0;
    }
    if (strcmp(command, "token") == 0)
        return cmd_token(argc - 2, argv + 2);
    if (strcmp(command, "serve") != 0 && strcmp(command, "migrate") != 0) {
        fprintf(stderr, "carbontree: unknown command '%s'\n\n", command);
        usage(stderr);
        return 2;
    }
    if (!config_load_env(&cfg, stderr) ||
        !config_parse_flags(&cfg, argc - 2, argv + 2, &help, stderr))
        return 2;
    if (help) {
        printf("Usage: carbontree %s [options]\n\n", command);
        config_usage(stdout);
        return 0;
    }
    log_set_level(cfg.log_level);
    log_set_json(cfg.log_json);
    if (strcmp(command, "migrate") == 0)
        return cmd_migrate(&cfg);
    return cmd_serve(&cfg);
}
