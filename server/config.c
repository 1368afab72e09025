/* SPDX-License-Identifier: Apache-2.0 */
/* Configuration: one table lists every setting with its flag, environment variable,
 * default and meaning; parsing and --help both read it. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum option_kind {
    OPT_STRING,
    OPT_UINT,
    OPT_SIZE,
    OPT_INT,
    OPT_I64,
    OPT_DOUBLE,
    OPT_BOOL,
    OPT_LEVEL,
    OPT_FORMAT
};

struct option_def {
    const char *flag;
    const char *env;
    enum option_kind kind;
    size_t offset;
    long long min, max;
    const char *fallback;
    const char *help;
};

#define OFF(field) offsetof(struct config, field)

static const struct option_def options[] = {
    {"--listen", "CARBONTREE_LISTEN", OPT_STRING, OFF(listen_addr), 0, 0, "127.0.0.1",
     "IP address to listen on (IPv4 or IPv6; 0.0.0.0 for every interface)"},
    {"--port", "CARBONTREE_PORT", OPT_UINT, OFF(port), 0, 65535, "8080",
     "TCP port (0 picks a free one; see --port-file)"},
    {"--db", "CARBONTREE_DB", OPT_STRING, OFF(db_path), 0, 0, "./data/carbontree.db",
     "SQLite database file (its directory must exist)"},
    {"--threads", "CARBONTREE_THREADS", OPT_UINT, OFF(threads), 0, 64, "0",
     "HTTP worker threads, each with its own database connection (0: one per core)"},
    {"--body-max", "CARBONTREE_BODY_MAX", OPT_SIZE, OFF(body_max_bytes), 1024, 16777216, "65536",
     "largest request body in bytes; larger ones get 413 before they are read"},
    {"--log-level", "CARBONTREE_LOG_LEVEL", OPT_LEVEL, OFF(log_level), 0, 0, "info",
     "debug, info, warn or error"},
    {"--log-format", "CARBONTREE_LOG_FORMAT", OPT_FORMAT, OFF(log_json), 0, 0, "text",
     "text or json (one JSON object per line)"},
    {"--max-connections", "CARBONTREE_MAX_CONNECTIONS", OPT_UINT, OFF(max_connections), 1, 100000,
     "256", "open connections at most; more are refused"},
    {"--per-ip-connections", "CARBONTREE_PER_IP_CONNECTIONS", OPT_UINT, OFF(per_ip_connections), 0,
     100000, "32", "open connections at most from one client address (0: no limit)"},
    {"--connection-timeout", "CARBONTREE_CONNECTION_TIMEOUT", OPT_UINT, OFF(connection_timeout_s),
     1, 3600, "10", "seconds of inactivity before a connection is closed"},
    {"--connection-memory", "CARBONTREE_CONNECTION_MEMORY", OPT_SIZE, OFF(connection_memory_bytes),
     8192, 1048576, "32768",
     "memory per connection for the request line and headers (bounds header size)"},
    {"--busy-timeout", "CARBONTREE_BUSY_TIMEOUT", OPT_INT, OFF(busy_timeout_ms), 0, 600000, "5000",
     "milliseconds a write waits for the database lock before 503"},
    {"--shutdown-grace", "CARBONTREE_SHUTDOWN_GRACE", OPT_UINT, OFF(shutdown_grace_s), 0, 3600,
     "10", "seconds in-flight requests get to finish after SIGTERM or SIGINT"},
    {"--port-file", "CARBONTREE_PORT_FILE", OPT_STRING, OFF(port_file), 0, 0, "",
     "write the bound port to this file once listening"},
    {"--auto-migrate", "CARBONTREE_AUTO_MIGRATE", OPT_BOOL, OFF(auto_migrate), 0, 0, "0",
     "apply pending migrations before serving (creates the database file)"},
    {"--write-batch-max", "CARBONTREE_WRITE_BATCH_MAX", OPT_UINT, OFF(write_batch_max), 1, 4096,
     "256",
     "write requests one transaction (one fsync) carries at most when they arrive together "
     "(1: every write commits on its own)"},
    {"--fold-interval-ms", "CARBONTREE_FOLD_INTERVAL_MS", OPT_UINT, OFF(fold_interval_ms), 1,
     3600000, "1000",
     "milliseconds an increment's delta waits at most before the writer adds it to the "
     "ancestors' family sums, the families' days and the totals (answers count it at once; "
     "lists ordered by a "
     "family sum lag by this much)"},
    {"--fold-threshold", "CARBONTREE_FOLD_THRESHOLD", OPT_UINT, OFF(fold_threshold), 1, 1000000,
     "2048",
     "pending deltas (one per model and day) that start a fold at once; each fold transaction "
     "folds this many"},
    {"--write-rate-limit", "CARBONTREE_WRITE_RATE_LIMIT", OPT_DOUBLE, OFF(write_rate_per_s), 0,
     1000000, "0", "writes per second each token may make (0: no limit); beyond it 429"},
    {"--write-burst", "CARBONTREE_WRITE_BURST", OPT_DOUBLE, OFF(write_burst), 0, 1000000, "0",
     "writes a token may make at once before the rate applies (0: one second's worth)"},
    {"--auth-reads", "CARBONTREE_AUTH_READS", OPT_BOOL, OFF(is_read_auth), 0, 0, "0",
     "reads need a token too (by default reads are public, writes need one)"},
    {"--metrics-max-models", "CARBONTREE_METRICS_MAX_MODELS", OPT_UINT, OFF(metrics_max_models), 0,
     100000, "1000",
     "GET /metrics gives per-model series for this many models (most inferences first) and "
     "per-family series for as many base models"},
    {"--count-copied-emissions", "CARBONTREE_COUNT_COPIED_EMISSIONS", OPT_BOOL,
     OFF(count_copied_emissions), 0, 0, "0",
     "count a quantization's or an adapter's card figure that repeats an ancestor's (by "
     "default it is flagged copied_from_ancestor and not counted again)"},
    {"--cache-size", "CARBONTREE_CACHE_SIZE", OPT_SIZE, OFF(cache_bytes), 0, 68719476736LL,
     "8388608",
     "bytes of rendered footprint and family answers kept in memory, each served again until "
     "a write changes its family (0: no cache)"},
    {"--cors-origins", "CARBONTREE_CORS_ORIGINS", OPT_STRING, OFF(cors_origins), 0, 0, "",
     "browser origins allowed to read answers (CORS): comma-separated exact origins such as "
     "https://dash.example.org, or * for any (empty: CORS off)"},
    {"--max-page-count", "CARBONTREE_MAX_PAGE_COUNT", OPT_I64, OFF(max_page_count), 0, LLONG_MAX,
     "0", "cap the database at this many pages (0: no cap); writes past it get 507"},
};

#define N_OPTIONS (sizeof options / sizeof options[0])

static bool parse_number(const char *text, long long min, long long max, long long *out)
{
    char *end = NULL;
    long long value;

    errno = 0;
    value = strtoll(text, &end, 10);
    if (text[0] == '\0' || *end != '\0' || errno != 0 || value < min || value > max)
        return false;
    *out = value;
    return true;
}

static bool apply(struct config *cfg, const struct option_def *o, const char *value, FILE *err,
                  const char *origin)
{
    char *field = (char *)cfg + o->offset;
    long long number = 0;

    switch (o->kind) {
    case OPT_STRING:
        *(const char **)(void *)field = value;
        return true;
    case OPT_BOOL:
        if (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 || strcmp(value, "yes") == 0) {
            *(bool *)(void *)field = true;
            return true;
        }
        if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
            value[0] == '\0') {
            *(bool *)(void *)field = false;
            return true;
        }
        break;
    case OPT_LEVEL:
        if (log_level_parse(value, (enum log_level *)(void *)field))
            return true;
        break;
    case OPT_FORMAT:
        if (strcmp(value, "text") == 0 || strcmp(value, "json") == 0) {
            *(bool *)(void *)field = strcmp(value, "json") == 0;
            return true;
        }
        break;
    case OPT_DOUBLE: {
        char *end = NULL;
        double d;
        errno = 0;
        d = strtod(value, &end);
        if (value[0] != '\0' && *end == '\0' && errno == 0 && d >= (double)o->min &&
            d <= (double)o->max) {
            *(double *)(void *)field = d;
            return true;
        }
        break;
    }
    case OPT_UINT:
    case OPT_SIZE:
    case OPT_INT:
    case OPT_I64:
        if (!parse_number(value, o->min, o->max, &number))
            break;
        if (o->kind == OPT_UINT)
            *(unsigned *)(void *)field = (unsigned)number;
        else if (o->kind == OPT_SIZE)
            *(size_t *)(void *)field = (size_t)number;
        else if (o->kind == OPT_INT)
            *(int *)(void *)field = (int)number;
        else
            *(int64_t *)(void *)field = (int64_t)number;
        return true;
    }
    if (o->kind == OPT_UINT || o->kind == OPT_SIZE || o->kind == OPT_INT || o->kind == OPT_I64 ||
        o->kind == OPT_DOUBLE)
        fprintf(err, "carbontree: %s: '%s' is not a whole number from %lld to %lld\n", origin,
                value, o->min, o->max);
    else
        fprintf(err, "carbontree: %s: '%s' is not a valid value\n", origin, value);
    return false;
}

bool config_load_env(struct config *cfg, FILE *err)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const char *value = getenv(options[i].env);
        if (!apply(cfg, &options[i], options[i].fallback, err, "default"))
            return false;
        if (value != NULL && !apply(cfg, &options[i], value, err, options[i].env))
            return false;
    }
    return true;
}

bool config_parse_flags(struct config *cfg, int argc, char **argv, bool *help, FILE *err)
{
    *help = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');
        size_t name_len = eq ? (size_t)(eq - arg) : strlen(arg);
        const struct option_def *o = NULL;

        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            *help = true;
            return true;
        }
        for (size_t j = 0; j < N_OPTIONS; j++)
            if (strlen(options[j].flag) == name_len && strncmp(arg, options[j].flag, name_len) == 0)
                o = &options[j];
        if (o == NULL) {
            fprintf(err, "carbontree: unknown option '%s' (see --help)\n", arg);
            return false;
        }
        if (o->kind == OPT_BOOL && eq == NULL) {
            *(bool *)(void *)((char *)cfg + o->offset) = true;
            continue;
        }
        if (eq == NULL && i + 1 >= argc) {
            fprintf(err, "carbontree: option '%s' needs a value\n", arg);
            return false;
        }
        if (!apply(cfg, o, eq ? eq + 1 : argv[++i], err, o->flag))
            return false;
    }
    if (cfg->threads == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = cores > 0 ? (unsigned)cores : 1;
    }
    return true;
}

bool config_flag_takes_value(const char *flag)
{
    size_t len = strcspn(flag, "=");

    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strlen(options[i].flag) == len && strncmp(flag, options[i].flag, len) == 0)
            return options[i].kind != OPT_BOOL;
    return false;
}

/* Whether o is named in flags (NULL: every option applies). */
static bool option_listed(const struct option_def *o, const char *const *flags)
{
    if (flags == NULL)
        return true;
    for (; *flags; flags++)
        if (strcmp(*flags, o->flag) == 0)
            return true;
    return false;
}

/* What a flag's value is, as the usage names it. */
static const char *value_name(enum option_kind kind)
{
    switch (kind) {
    case OPT_STRING:
        return " VALUE";
    case OPT_UINT:
    case OPT_INT:
    case OPT_I64:
        return " N";
    case OPT_SIZE:
        return " BYTES";
    case OPT_DOUBLE:
        return " NUMBER";
    case OPT_BOOL:
        return "[=yes|no]";
    case OPT_LEVEL:
        return " LEVEL";
    case OPT_FORMAT:
        return " FORMAT";
    }
    return "";
}

/* text, indented by indent columns and wrapped at 80 on blanks. */
static void print_wrapped(FILE *out, int indent, const char *text)
{
    const int width = 80 - indent;

    while (*text) {
        int len = (int)strlen(text);
        if (len > width) {
            len = width;
            while (len > 0 && text[len] != ' ')
                len--;
            if (len == 0)
                len = (int)strcspn(text, " ");
        }
        fprintf(out, "%*s%.*s\n", indent, "", len, text);
        text += len;
        while (*text == ' ')
            text++;
    }
}

void config_usage(FILE *out, const char *const *flags)
{
    const char *fallback;
    char text[512];

    for (size_t i = 0; i < N_OPTIONS; i++) {
        const struct option_def *o = &options[i];
        if (!option_listed(o, flags))
            continue;
        fprintf(out, "    %s%s\n", o->flag, value_name(o->kind));
        if (o->kind == OPT_BOOL)
            fallback = strcmp(o->fallback, "0") == 0 ? "no" : "yes";
        else
            fallback = o->fallback[0] ? o->fallback : "none";
        snprintf(text, sizeof text, "%s. Default: %s. Environment: %s.", o->help, fallback, o->env);
        text[0] = (char)toupper((unsigned char)text[0]);
        print_wrapped(out, 8, text);
    }
}

void config_environment(FILE *out, const char *const *flags)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (option_listed(&options[i], flags))
            fprintf(out, "    %-31s as %s\n", options[i].env, options[i].flag);
}
