/* SPDX-License-Identifier: Apache-2.0 */
/* For SQLite-only code of db/ (checkpoints, the update hook, pragmas, the test
 * VFS): the engine's handle under a statement layer connection. */
#ifndef DB_SQL_SQLITE_H
#define DB_SQL_SQLITE_H

#include "sql.h"

#include <sqlite3.h>

/* conn's sqlite3 handle, owned by conn; NULL when conn is not a SQLite one. */
sqlite3 *sql_sqlite_handle(struct sql_conn *conn);

#endif
