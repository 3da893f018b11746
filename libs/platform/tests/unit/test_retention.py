"""The retention purge's pieces that need no database: what a purge may name, and its bounded statement."""

from datetime import timedelta

import pytest

from smartpick_platform import outbox
from smartpick_platform.retention import FunctionPurge, TablePurge


def test_a_table_or_function_name_that_is_not_a_plain_identifier_is_refused():
    with pytest.raises(ValueError, match="identifier"):
        TablePurge("bad", "outbox; DROP TABLE students", "publish_time", timedelta(hours=1))
    with pytest.raises(ValueError, match="identifier"):
        FunctionPurge("bad", "purge(); DROP TABLE students; --", timedelta(hours=1))


def test_a_purge_deletes_one_bounded_batch_of_rows_past_their_time_skipping_locked_ones():
    statement = outbox.retention(keep=timedelta(hours=24)).statement
    assert "WHERE publish_time < now() - $2::interval" in statement
    assert "LIMIT $1 FOR UPDATE SKIP LOCKED" in statement
    assert "DELETE FROM outbox" in statement and statement.rstrip().endswith("SELECT count(*) FROM gone")
