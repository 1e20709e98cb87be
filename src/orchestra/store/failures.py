"""Driver errors as Orchestra's errors, worded once for every door to the database.

a value PostgreSQL refuses (NUL, NaN, too large)   -> ValueRefused (the input's fault)
a conflict with a concurrent transaction            -> Conflict (rolled back: try again)
the server out of reach, the connection broken      -> StoreError
any other statement the server refuses              -> StatementRefused (retrying changes
                                                       nothing: a constraint, a bug)
"""

from __future__ import annotations

import psycopg

from orchestra.errors import Conflict, OrchestraError, StatementRefused, StoreError
from orchestra.store.base import CONFLICTS
from orchestra.store.refusals import REFUSALS, refused


def failure(exc: psycopg.Error) -> OrchestraError:
    """The error to raise (`from exc`) for a driver error."""
    if isinstance(exc, REFUSALS):  # before OperationalError: class 54 is filed there
        return refused(exc)
    if isinstance(exc, CONFLICTS):
        return Conflict(
            f"the change conflicted with a concurrent one ({exc.diag.message_primary or exc})"
            " and was rolled back: nothing changed; try again"
        )
    if isinstance(exc, psycopg.OperationalError):
        return StoreError(f"PostgreSQL is unreachable: {exc}")
    return StatementRefused(f"PostgreSQL refused the statement: {exc}")
