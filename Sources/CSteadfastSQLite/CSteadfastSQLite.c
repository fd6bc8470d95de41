#include "CSteadfastSQLite.h"

// Declared here rather than by including SQLiteNIO's header: this target only needs the one
// (prefixed) symbol, which SQLiteNIO's VaporCSQLite target defines.
int sqlite_nio_sqlite3_db_config(void *db, int op, ...);

// SQLITE_DBCONFIG_ENABLE_QPSG in sqlite3.h.
#define STEADFAST_SQLITE_DBCONFIG_ENABLE_QPSG 1007

int steadfast_sqlite_enable_qpsg(void *db) {
    int enabled = 0;
    return sqlite_nio_sqlite3_db_config(db, STEADFAST_SQLITE_DBCONFIG_ENABLE_QPSG, 1, &enabled);
}
