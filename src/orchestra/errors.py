"""Every error Orchestra raises on purpose, and what each becomes at the edges.

    OrchestraError                      exit 1, HTTP 400
    ├── UsageError                      exit 2, HTTP 400  a command or request that makes no sense
    │   └── UnboundTasks                exit 2, HTTP 422  a run of tasks without a binding, unasked
    ├── ConfigurationError              exit 2, HTTP 500  settings, environment, embedded server
    │   └── DatabaseUnreachable         exit 2, HTTP 503  no PostgreSQL at the configured place
    ├── NotFound                        exit 1, HTTP 404  a process, suite, run... that is not there
    ├── Conflict                        exit 1, HTTP 409  a state that forbids the operation
    ├── InputRefused                    exit 1, HTTP 422  a user's file or payload that is invalid
    │   ├── BpmnRefused                 hostile, malformed or untestable BPMN
    │   ├── BindingRefused              a binding, data set or environment file that is invalid
    │   ├── DependencyCycle             `dependsOn` between scenarios that loops
    │   └── ValueRefused                a value PostgreSQL cannot store (NUL, NaN, out of range)
    ├── GenerationLimit                 exit 1, HTTP 422  all-paths above its cap
    └── StoreError                      exit 1, HTTP 503  PostgreSQL unreachable or failing
        └── StatementRefused            a statement the server refused: trying again changes nothing

Driver and library errors are wrapped (`raise ... from exc`) and every message names the
element, file, line or run it is about. `cli.main` and the API's exception handler are the only
places that turn them into exit codes and HTTP statuses.
"""

from __future__ import annotations

from typing import Any, ClassVar


class OrchestraError(Exception):
    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = details or {}

    def to_json(self) -> dict[str, Any]:
        return {"error": type(self).__name__, "message": self.message, **self.details}


class UsageError(OrchestraError):
    exit_code = 2


class UnboundTasks(UsageError):
    """A suite run refused because tasks it would execute have no binding; `details["unbound"]`
    lists them ({"element_id", "name", "scenarios"}). Each interface says how to allow them."""

    http_status = 422

    def advised(self, advice: str) -> UnboundTasks:
        """The same refusal, its message ending with an interface's own words."""
        return UnboundTasks(f"{self.message}; {advice}", details=self.details)


class ConfigurationError(OrchestraError):
    exit_code = 2
    http_status = 500


class DatabaseUnreachable(ConfigurationError):
    http_status = 503


class NotFound(OrchestraError):
    """Something named that is not there, said one way everywhere: `no KIND REFERENCE`, then
    why in brackets when a name was looked up (`no suite 'order' (process 'order' is not
    imported)`). The details carry the same facts for a program: `kind` (suite, suite run,
    process, environment, data set), `reference` as given, and `reason` when there is one.
    Each interface adds its own words (the CLI a command that lists what there is)."""

    http_status = 404

    def __init__(self, kind: str, reference: int | str, *, reason: str | None = None) -> None:
        shown = str(reference) if isinstance(reference, int) else repr(reference)
        message = f"no {kind} {shown}" + (f" ({reason})" if reason else "")
        details: dict[str, Any] = {"kind": kind, "reference": reference}
        if reason:
            details["reason"] = reason
        super().__init__(message, details=details)
        self.kind = kind

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled (from the parser process) as it was made: `Exception` would call the class
        with its message alone."""
        return (_not_found, (self.kind, self.details["reference"], self.details.get("reason")))


def _not_found(kind: str, reference: int | str, reason: str | None) -> NotFound:
    return NotFound(kind, reference, reason=reason)


class Conflict(OrchestraError):
    http_status = 409


class InputRefused(OrchestraError):
    http_status = 422


class BpmnRefused(InputRefused):
    pass


class BindingRefused(InputRefused):
    pass


class DependencyCycle(InputRefused):
    pass


class ValueRefused(InputRefused):
    """A value the store refused (PostgreSQL or its driver): a NUL character in text, NaN or
    Infinity in JSON, a number out of range. Raised by `store.database` at the unit of work's
    edge, naming the parameter and the statement when they are known."""


class GenerationLimit(OrchestraError):
    http_status = 422


class StoreError(OrchestraError):
    http_status = 503


class StatementRefused(StoreError):
    """A statement PostgreSQL refused for another reason than a value (`ValueRefused`) or a
    conflict (`Conflict`): a constraint, a bug. The server is there; trying again is useless."""
