/* SPDX-License-Identifier: Apache-2.0 */
/* The carbontree command: serve, migrate, token, version and help, each with its
 * manual page (`carbontree <command> --help`). Parses configuration, wires the api
 * service to the HTTP daemon and handles SIGTERM/SIGINT for a graceful stop. */
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
#include <unistd.h>

#ifndef CARBONTREE_VERSION
#define CARBONTREE_VERSION "0.0.0"
#endif
/* SPDX identifier of the licence in LICENSE; openapi.yaml's info.license says the same. */
#define CARBONTREE_LICENCE "Apache-2.0"

struct command;
static void usage(FILE *out);
static void command_usage(const struct command *command, FILE *out);
static const struct command *command_find(const char *name);

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
    api->count_copied_emissions = cfg->count_copied_emissions;
    api->metrics_max_models = cfg->metrics_max_models;
    api->cache_bytes = cfg->cache_bytes;
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
    if (strcmp(action, "create") != 0 && strcmp(action, "list") != 0 &&
        strcmp(action, "revoke") != 0) {
        fprintf(stderr,
                "carbontree token: %s%s%s\nUsage: carbontree token create|list|revoke "
                "[options] (`carbontree token --help` tells more)\n",
                action[0] ? "unknown action '" : "no action given", action, action[0] ? "'" : "");
        return 2;
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

/* serve and migrate: configuration from the environment, then the flags. */
static bool load_config(int argc, char **argv, struct config *cfg)
{
    bool help = false;

    if (!config_load_env(cfg, stderr) || !config_parse_flags(cfg, argc, argv, &help, stderr))
        return false;
    log_set_level(cfg->log_level);
    log_set_json(cfg->log_json);
    return true;
}

static int run_serve(int argc, char **argv)
{
    struct config cfg;

    return load_config(argc, argv, &cfg) ? cmd_serve(&cfg) : 2;
}

static int run_migrate(int argc, char **argv)
{
    struct config cfg;

    return load_config(argc, argv, &cfg) ? cmd_migrate(&cfg) : 2;
}

static int run_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("carbontree %s (schema %d)\n"
           "Copyright 2026 The carbontree authors\n"
           "Licence: %s (the Apache License, Version 2.0)\n"
           "The reference data built in keeps its own licences: GET /v1/methodology, and NOTICE.\n",
           CARBONTREE_VERSION, db_schema_latest(), CARBONTREE_LICENCE);
    return 0;
}

static int run_help(int argc, char **argv)
{
    const struct command *command;

    if (argc == 0) {
        usage(stdout);
        return 0;
    }
    command = command_find(argv[0]);
    if (command == NULL) {
        fprintf(stderr, "carbontree help: unknown command '%s'\n\n", argv[0]);
        usage(stderr);
        return 2;
    }
    command_usage(command, stdout);
    return 0;
}

/* ---- the commands and their manual pages ---- */

struct command {
    const char *name;
    int (*run)(int argc, char **argv); /* the arguments after the command's name */
    const char *summary;               /* NAME, and the list of `carbontree help` */
    const char *synopsis;              /* lines, each after "carbontree " */
    const char *description;           /* wrapped at 80 columns, 4 spaces in */
    const char *own_options;           /* the command's own flags, as printed */
    bool has_config_options;           /* OPTIONS lists config_options (NULL: all) */
    const char *const *config_options;
    const char *environment; /* entries beyond the options' own variables */
    const char *exit_status;
    const char *examples;
};

static const char *const migrate_options[] = {"--db",        "--busy-timeout", "--max-page-count",
                                              "--log-level", "--log-format",   NULL};
static const char *const token_options[] = {"--db", "--busy-timeout", NULL};
static const char *const import_options[] = {"--db", "--busy-timeout", "--max-page-count",
                                             "--count-copied-emissions", NULL};

/* `carbontree import FILE [--batch LINES]`: the command's own flags, then the
 * usual options; a summary line on stderr whatever happens. */
static int run_import(int argc, char **argv)
{
    const char *path = NULL;
    char *rest[64];
    int n_rest = 0;
    unsigned long batch = 0;
    struct config cfg;
    struct api_config api;
    struct api_import_summary sum;
    bool help = false;
    char why[512] = "";
    enum err rc;

    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
            batch = strtoul(argv[++i], NULL, 10);
        else if (argv[i][0] == '-' && n_rest < 63) {
            rest[n_rest++] = argv[i];
            if (strchr(argv[i], '=') == NULL && config_flag_takes_value(argv[i]) && i + 1 < argc)
                rest[n_rest++] = argv[++i];
        } else if (path == NULL)
            path = argv[i];
        else if (n_rest < 64)
            rest[n_rest++] = argv[i];
    }
    if (!config_load_env(&cfg, stderr) || !config_parse_flags(&cfg, n_rest, rest, &help, stderr))
        return 2;
    if (path == NULL) {
        fprintf(stderr, "carbontree import: which file? `carbontree import --help` says more\n");
        return 2;
    }
    api_config_from(&cfg, &api);
    rc = api_cli_import(&api, path, batch, stderr, isatty(STDERR_FILENO) ? stderr : NULL, &sum, why,
                        sizeof why);
    fprintf(stderr,
            "imported %lld (created %lld, updated %lld, unchanged %lld), refused %lld of %lld "
            "lines in %.1f s (%.0f models/s)\n",
            (long long)sum.n_imported, (long long)sum.n_created, (long long)sum.n_updated,
            (long long)sum.n_unchanged, (long long)sum.n_refused, (long long)sum.n_lines,
            sum.seconds, sum.seconds > 0 ? (double)sum.n_imported / sum.seconds : 0.0);
    if (rc != ERR_OK) {
        fprintf(stderr, "carbontree import: %s\n", why[0] ? why : err_name(rc));
        return rc == ERR_IO && sum.line_number == 0 ? 2 : 1;
    }
    return sum.n_refused > 0 ? 1 : 0;
}

#define ADMIN_TOKEN_ENTRY                                                                          \
    "    CARBONTREE_ADMIN_TOKEN\n"                                                                 \
    "        When the database has no admin token, this value (24 to 512 token68\n"                \
    "        characters) becomes its first one at start; a malformed value stops\n"                \
    "        serve. Environment only.\n"

static const struct command commands[] = {
    {
        .name = "serve",
        .run = run_serve,
        .summary = "serve the HTTP API",
        .synopsis = "serve [OPTION]...\n",
        .description =
            "    Serves the carbon ledger over HTTP (see GET /openapi.yaml for the API)\n"
            "    until SIGTERM or SIGINT, then lets requests in flight finish for\n"
            "    --shutdown-grace seconds. Each setting comes from its flag, else its\n"
            "    environment variable, else its default. The database must have the\n"
            "    current schema: run `carbontree migrate` first, or give --auto-migrate.\n",
        .has_config_options = true,
        .config_options = NULL,
        .environment = ADMIN_TOKEN_ENTRY,
        .exit_status = "    0   stopped after SIGTERM or SIGINT\n"
                       "    1   could not start: database, listen address or port, or a bad\n"
                       "        --cors-origins list\n"
                       "    2   an unknown option or a bad value\n",
        .examples = "    carbontree serve --db ./data/carbontree.db --auto-migrate\n"
                    "    CARBONTREE_PORT=9000 carbontree serve --listen 0.0.0.0\n"
                    "    carbontree serve --cors-origins https://dash.example.org\n",
    },
    {
        .name = "migrate",
        .run = run_migrate,
        .summary = "create or upgrade the database schema, then exit",
        .synopsis = "migrate [OPTION]...\n",
        .description = "    Creates the database file when it does not exist and applies every\n"
                       "    pending migration, each in its own transaction. Running it again\n"
                       "    changes nothing.\n",
        .has_config_options = true,
        .config_options = migrate_options,
        .exit_status = "    0   the schema is current\n"
                       "    1   the database could not be opened or migrated\n"
                       "    2   an unknown option or a bad value\n",
        .examples = "    carbontree migrate --db ./data/carbontree.db\n",
    },
    {
        .name = "token",
        .run = cmd_token,
        .summary = "create, list or revoke API tokens",
        .synopsis = "token create --name NAME --scopes SCOPES --namespaces NAMESPACES [OPTION]...\n"
                    "token create --name NAME --admin [--namespaces NAMESPACES] [OPTION]...\n"
                    "token list [OPTION]...\n"
                    "token revoke ID [OPTION]...\n",
        .description = "    Manages the bearer tokens writes need, on the database directly (the\n"
                       "    server may be running). create prints the new token once: only its\n"
                       "    hash is kept. list prints every token without its secret. revoke ends\n"
                       "    a token at once.\n",
        .own_options =
            "    --name NAME\n"
            "        create: the token's name (what it is for, e.g. hub-a).\n"
            "    --scopes SCOPES\n"
            "        create: comma-separated scopes: models:write, inferences:write, admin.\n"
            "    --namespaces NAMESPACES\n"
            "        create: comma-separated namespaces the token may write, or *.\n"
            "    --admin\n"
            "        create: every scope, and every namespace unless --namespaces says.\n",
        .has_config_options = true,
        .config_options = token_options,
        .exit_status = "    0   done\n"
                       "    1   the database could not be opened or is not migrated\n"
                       "    2   bad usage, an invalid name, scope or namespace, or no token\n"
                       "        with this ID\n",
        .examples = "    carbontree token create --name hub-a --scopes models:write,"
                    "inferences:write \\\n"
                    "        --namespaces hub-a\n"
                    "    carbontree token create --name ops --admin\n"
                    "    carbontree token list --db ./data/carbontree.db\n"
                    "    carbontree token revoke 3\n",
    },
    {
        .name = "import",
        .run = run_import,
        .summary = "bulk-load models, lineage and activities from JSON lines or Hub cards",
        .synopsis = "import FILE|FOLDER [--batch LINES] [OPTION]...\n",
        .description =
            "    Reads FILE, one model per line in the shape of a POST /v1/models body\n"
            "    (id, parents, task, license, url, parameters, or a Hub card: base_model,\n"
            "    base_model_relation, co2_eq_emissions and any other card metadata)\n"
            "    plus optional \"activities\" (an array of activity bodies) and\n"
            "    \"inferences\" (a count, counted today); or the Hub's model-info JSON\n"
            "    (objects with id and cardData), one per line or as one JSON array; or a\n"
            "    FOLDER of model cards, FOLDER/<namespace>/<name>/README.md, each read\n"
            "    from its YAML front matter. Lines are checked as the API checks them.\n"
            "    A card's parent that is not registered becomes a placeholder that a\n"
            "    later card completes, so cards import alike in any order; a line in\n"
            "    carbontree's own form needs its parents earlier or registered. A model\n"
            "    registered already is brought in line with its line, as PUT does: the\n"
            "    same file imported again changes nothing. A refused line is reported\n"
            "    on stderr (where and why) and skipped; the others are stored, one\n"
            "    transaction per batch. Creates and migrates the database when needed.\n"
            "    Shows a progress bar when stderr is a terminal, then a summary: created,\n"
            "    updated, unchanged and refused.\n",
        .own_options = "    --batch LINES\n"
                       "        Lines per transaction (default 50000).\n",
        .has_config_options = true,
        .config_options = import_options,
        .exit_status = "    0   every line was imported\n"
                       "    1   some lines were refused, or storage failed (lines since the\n"
                       "        last commit were not imported)\n"
                       "    2   bad usage, or FILE cannot be read\n",
        .examples = "    carbontree import hub-export.jsonl --db ./data/carbontree.db\n"
                    "    carbontree import ./cards --db ./data/carbontree.db\n",
    },
    {
        .name = "version",
        .run = run_version,
        .summary = "print the version, the schema version it needs and the licence",
        .synopsis = "version\n",
        .description = "    Prints the program's version, the database schema version it needs\n"
                       "    (the newest migration built in) and its licence, Apache-2.0. The\n"
                       "    reference data built in keeps its own licences, which\n"
                       "    GET /v1/methodology lists. `carbontree --version` is the same.\n",
        .exit_status = "    0   always\n",
        .examples = "    carbontree version\n"
                    "    carbontree --version\n",
    },
    {
        .name = "help",
        .run = run_help,
        .summary = "print the commands, or a command's manual page",
        .synopsis = "help [COMMAND]\n",
        .description = "    Without a command, lists the commands. With one, prints its manual\n"
                       "    page, as `carbontree COMMAND --help` does.\n",
        .exit_status = "    0   printed\n"
                       "    2   no such command\n",
        .examples = "    carbontree help\n"
                    "    carbontree help serve\n",
    },
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const struct command *command_find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out,
            "carbontree %s - the carbon ledger of shared machine-learning models\n\n"
            "Usage: carbontree <command> [options]\n\n"
            "Commands:\n",
            CARBONTREE_VERSION);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`carbontree help <command>` or `carbontree <command> --help` prints a "
                 "command's\nmanual page: its options, environment and exit status.\n");
}

/* The command's manual page. */
static void command_usage(const struct command *command, FILE *out)
{
    const char *line = command->synopsis;

    fprintf(out, "NAME\n    carbontree %s - %s\n\nSYNOPSIS\n", command->name, command->summary);
    while (*line) {
        size_t len = strcspn(line, "\n");
        fprintf(out, "    carbontree %.*s\n", (int)len, line);
        line += len + (line[len] == '\n');
    }
    fprintf(out, "\nDESCRIPTION\n%s\nOPTIONS\n", command->description);
    if (command->own_options)
        fputs(command->own_options, out);
    if (command->has_config_options)
        config_usage(out, command->config_options);
    fprintf(out, "    -h, --help\n        Print this manual page and exit.\n\nENVIRONMENT\n");
    if (command->has_config_options)
        config_environment(out, command->config_options);
    if (command->environment)
        fputs(command->environment, out);
    if (!command->has_config_options && !command->environment)
        fprintf(out, "    None.\n");
    fprintf(out, "\nEXIT STATUS\n%s\nEXAMPLES\n%s", command->exit_status, command->examples);
}

static bool asks_for_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

int main(int argc, char **argv)
{
    const char *name = argc > 1 ? argv[1] : "help";
    const struct command *command;

    api_json_install_allocator();
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0)
        name = "help";
    else if (strcmp(name, "--version") == 0)
        name = "version";
    command = command_find(name);
    if (command == NULL) {
        fprintf(stderr, "carbontree: unknown command '%s'\n\n", name);
        usage(stderr);
        return 2;
    }
    if (argc > 1 && asks_for_help(argc - 2, argv + 2)) {
        command_usage(command, stdout);
        return 0;
    }
    return command->run(argc > 1 ? argc - 2 : 0, argv + 2);
}
