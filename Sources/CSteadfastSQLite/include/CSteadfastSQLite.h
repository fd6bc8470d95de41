#ifndef C_STEADFAST_SQLITE_H
#define C_STEADFAST_SQLITE_H

/// Turns on SQLite's query planner stability guarantee (SQLITE_DBCONFIG_ENABLE_QPSG) for one
/// connection of SQLiteNIO's vendored SQLite. Returns SQLite's result code.
///
/// `sqlite3_db_config` is variadic, which Swift cannot call; this is the one call we need.
int steadfast_sqlite_enable_qpsg(void *db);

#endif
