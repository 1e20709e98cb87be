"""How a user names a suite or a suite run: by id, as `latest`, or by its process.

    SUITE      42 | latest | PROCESS[@VERSION][:CRITERION]
    SUITE_RUN  42 | latest | SUITE (the newest suite run of that suite)

`PROCESS[@VERSION][:CRITERION]` is the newest suite of that process version (the newest
version when omitted) generated with that criterion (any when omitted). A BPMN id is an XML
NCName: it never starts with a digit and holds neither `@` nor `:`, so the forms cannot be
confused; a process whose id is `latest` is named with its version (`latest@1`).

Parsing is pure; `services.references` looks the parsed reference up in the store.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestra.errors import UsageError

LATEST = "latest"
# The coverage criteria (`domain.generation.Criterion`'s values, kept apart so that parsing a
# reference does not import the generator).
CRITERIA = ("all-flows", "all-nodes", "all-paths")


@dataclass(frozen=True, slots=True)
class SuiteRef:
    """A suite as named: `id`, or `latest`, or the newest suite of `process` (`version`: None
    for the newest version; `criterion`: None for any)."""

    text: str
    id: int | None = None
    latest: bool = False
    process: str | None = None
    version: int | None = None
    criterion: str | None = None

    def __str__(self) -> str:
        return self.text

    def describe(self) -> str:
        """What the reference asks for, in words: what a `NotFound` says was looked for."""
        if self.id is not None:
            return f"suite {self.id}"
        if self.latest:
            return "the newest suite"
        version = "its newest version" if self.version is None else f"version {self.version}"
        criterion = f" with {self.criterion}" if self.criterion else ""
        return f"the newest suite{criterion} of process {self.process!r}, {version}"


@dataclass(frozen=True, slots=True)
class SuiteRunRef:
    """A suite run as named: `id`, or `latest` (the newest of all), or the newest suite run
    of `suite`."""

    text: str
    id: int | None = None
    latest: bool = False
    suite: SuiteRef | None = None

    def __str__(self) -> str:
        return self.text

    def describe(self) -> str:
        if self.id is not None:
            return f"suite run {self.id}"
        if self.latest or self.suite is None:
            return "the newest suite run"
        return f"the newest suite run of {self.suite.describe()}"


def parse_suite_ref(text: str) -> SuiteRef:
    """`42`, `latest` or `PROCESS[@VERSION][:CRITERION]`; anything else is a UsageError."""
    given = text.strip()
    if given.isdigit():
        return SuiteRef(text=given, id=_positive(given, text))
    if given == LATEST:
        return SuiteRef(text=given, latest=True)
    rest, colon, criterion = given.partition(":")
    if colon and criterion not in CRITERIA:
        raise UsageError(
            f"{text!r}: the criterion after ':' is one of {', '.join(CRITERIA)}",
            details={"reference": text},
        )
    process, at, version = rest.partition("@")
    if not process or (at and not version.isdigit()):
        raise UsageError(
            f"{text!r} is not a suite: an id, `latest`, or PROCESS[@VERSION][:CRITERION]",
            details={"reference": text},
        )
    return SuiteRef(
        text=given,
        process=process,
        version=_positive(version, text) if at else None,
        criterion=criterion or None,
    )


def parse_suite_run_ref(text: str) -> SuiteRunRef:
    """`42`, `latest`, or a suite's reference (its newest suite run)."""
    given = text.strip()
    if given.isdigit():
        return SuiteRunRef(text=given, id=_positive(given, text))
    if given == LATEST:
        return SuiteRunRef(text=given, latest=True)
    return SuiteRunRef(text=given, suite=parse_suite_ref(given))


def _positive(digits: str, text: str) -> int:
    number = int(digits)
    if number < 1:
        raise UsageError(f"{text!r}: ids and versions start at 1", details={"reference": text})
    return number
