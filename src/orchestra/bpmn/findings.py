"""Problems found while reading and validating a model, collected in document order."""

from __future__ import annotations

from dataclasses import dataclass, field

from orchestra.domain.process import Problem, ProblemSeverity


@dataclass
class Findings:
    problems: list[Problem] = field(default_factory=list)

    def error(
        self,
        code: str,
        message: str,
        *,
        element_id: str | None = None,
        process_id: str | None = None,
        line: int | None = None,
    ) -> None:
        self._add(ProblemSeverity.ERROR, code, message, element_id, process_id, line)

    def warning(
        self,
        code: str,
        message: str,
        *,
        element_id: str | None = None,
        process_id: str | None = None,
        line: int | None = None,
    ) -> None:
        self._add(ProblemSeverity.WARNING, code, message, element_id, process_id, line)

    def _add(
        self,
        severity: ProblemSeverity,
        code: str,
        message: str,
        element_id: str | None,
        process_id: str | None,
        line: int | None,
    ) -> None:
        self.problems.append(
            Problem(
                severity=severity,
                code=code,
                message=message,
                element_id=element_id,
                process_id=process_id,
                line=line,
            )
        )
