"""The sink's errors: transient ones are retried with the same batch, permanent ones are not."""

import psycopg
from psycopg_pool import PoolTimeout

from streams.errors import StreamsError

# SQLSTATE classes and codes after which the same batch may succeed on a later attempt.
# 08 connection exception, 53 insufficient resources, 57 operator intervention (admin/crash
# shutdown, cannot connect now, query canceled by an operator or a statement timeout).
_TRANSIENT_CLASSES = ("08", "53", "57")
_TRANSIENT_CODES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "55P03",  # lock_not_available
        "55006",  # object_in_use
        "25006",  # read_only_sql_transaction (a failover left us on a standby)
        "58000",  # system_error
        "58030",  # io_error
    }
)


class SinkError(StreamsError):
    """Base class of the sink's errors; `__cause__` is the original exception."""


class TransientDatabaseError(SinkError):
    """The database is unreachable or busy; retry the same batch after a backoff."""


class PermanentDatabaseError(SinkError):
    """The batch cannot be stored as it is (bad data, missing table, no privilege)."""


def is_transient_sqlstate(sqlstate: str) -> bool:
    """Whether an error with this SQLSTATE may go away by itself."""
    if sqlstate in _TRANSIENT_CODES:
        return True
    return sqlstate[:2] in _TRANSIENT_CLASSES


def classify(exc: BaseException) -> SinkError:
    """Wrap `exc` as a TransientDatabaseError or a PermanentDatabaseError (`__cause__` = exc).

    Transient: pool timeouts, lost or refused connections (psycopg.OperationalError without a
    SQLSTATE, class 08), operator intervention (57: shutdowns, cancels), insufficient
    resources (53), serialization failures and deadlocks (40001, 40P01), lock timeouts (55P03),
    OS errors.
    Everything else is permanent: data, constraint, syntax and privilege errors, and bugs.
    """
    if isinstance(exc, SinkError):
        return exc
    transient = False
    if isinstance(exc, PoolTimeout | ConnectionError | TimeoutError):
        transient = True
    elif isinstance(exc, psycopg.Error):
        sqlstate = exc.sqlstate
        if sqlstate is None:
            transient = isinstance(exc, psycopg.OperationalError)
        else:
            transient = is_transient_sqlstate(sqlstate)
    error: SinkError
    if transient:
        error = TransientDatabaseError(f"transient database error: {exc!r}")
    else:
        error = PermanentDatabaseError(f"permanent database error: {exc!r}")
    error.__cause__ = exc
    return error
