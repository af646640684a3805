#ifndef KOFU_CLIBPQ_SHIM_H
#define KOFU_CLIBPQ_SHIM_H
// libpq, the PostgreSQL client library (Debian libpq-dev): the PostgreSQL replica backend.
#include <libpq-fe.h>
#endif
