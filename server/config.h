/* SPDX-License-Identifier: Apache-2.0 */
/* Settings of the carbontree command: defaults, CARBONTREE_* environment
 * variables, then command-line flags, in that order of precedence. */
#ifndef SERVER_CONFIG_H
#define SERVER_CONFIG_H

#include "log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct config {
    const char *listen_addr;
    unsigned port;
    const char *db_path;
    unsigned threads;
    size_t body_max_bytes;
    enum log_level log_level;
    bool log_json;
    unsigned max_connections;
    unsigned per_ip_connections;
    unsigned connection_timeout_s;
    size_t connection_memory_bytes;
    int busy_timeout_ms;
    unsigned shutdown_grace_s;
    const char *port_file;
    bool auto_migrate;
    int64_t max_page_count;
    double write_rate_per_s;
    double write_burst;
    bool is_read_auth;
    bool count_copied_emissions;
    size_t cache_bytes;
    unsigned metrics_max_models;
    const char *cors_origins;  /* comma-separated origins, or "*"; empty: CORS off */
    unsigned write_batch_max;  /* writes one group commit carries at most */
    unsigned fold_interval_ms; /* the longest an increment's delta waits for its fold */
    unsigned fold_threshold;   /* pending deltas that start a fold at once */
};

/* Fills cfg with defaults, then the environment. Returns false and prints to err
 * on a bad value. */
bool config_load_env(struct config *cfg, FILE *err);

/* Applies flags from argv[0..argc) (after the subcommand). Returns false and prints
 * to err on an unknown flag or bad value; *help is set when --help was given. */
bool config_parse_flags(struct config *cfg, int argc, char **argv, bool *help, FILE *err);

/* Whether flag (e.g. "--db") is an option that takes a value. */
bool config_flag_takes_value(const char *flag);

/* Prints the OPTIONS entries of a manual page for the options named in flags
 * (NULL-terminated, e.g. "--db"; NULL: every option): flag, value, meaning,
 * default and environment variable, wrapped at 80 columns. */
void config_usage(FILE *out, const char *const *flags);

/* Prints the ENVIRONMENT entries for the same options: each variable and its flag. */
void config_environment(FILE *out, const char *const *flags);

#endif
