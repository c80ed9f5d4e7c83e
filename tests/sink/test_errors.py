"""Error classification: what the agent may retry with the same batch."""

import psycopg
import pytest
from psycopg_pool import PoolTimeout

from streams.errors import StreamsError
from streams.sink.errors import (
    PermanentDatabaseError,
    SinkError,
    TransientDatabaseError,
    classify,
    is_transient_sqlstate,
)


@pytest.mark.parametrize(
    ("sqlstate", "transient"),
    [
        ("08006", True),  # connection_failure
        ("57P01", True),  # admin_shutdown
        ("57P03", True),  # cannot_connect_now
        ("57014", True),  # query_canceled
        ("53300", True),  # too_many_connections
        ("40001", True),  # serialization_failure
        ("40P01", True),  # deadlock_detected
        ("55P03", True),  # lock_not_available
        ("23505", False),  # unique_violation
        ("22021", False),  # character_not_in_repertoire
        ("42P01", False),  # undefined_table
        ("42501", False),  # insufficient_privilege
        ("XX000", False),  # internal_error
    ],
)
def test_sqlstates(sqlstate: str, transient: bool) -> None:
    assert is_transient_sqlstate(sqlstate) is transient
    error = psycopg.errors.lookup(sqlstate)("boom")
    wrapped = classify(error)
    assert isinstance(wrapped, TransientDatabaseError if transient else PermanentDatabaseError)
    assert wrapped.__cause__ is error


def test_errors_without_sqlstate() -> None:
    assert isinstance(classify(psycopg.OperationalError("connection lost")), TransientDatabaseError)
    assert isinstance(classify(PoolTimeout("no connection")), TransientDatabaseError)
    assert isinstance(classify(ConnectionResetError()), TransientDatabaseError)
    assert isinstance(classify(psycopg.ProgrammingError("bad")), PermanentDatabaseError)
    assert isinstance(classify(TypeError("naive datetime")), PermanentDatabaseError)


def test_hierarchy() -> None:
    assert issubclass(TransientDatabaseError, SinkError)
    assert issubclass(PermanentDatabaseError, SinkError)
    assert issubclass(SinkError, StreamsError)
    already = TransientDatabaseError("x")
    assert classify(already) is already
