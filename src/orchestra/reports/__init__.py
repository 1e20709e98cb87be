"""Reports of one suite run, all rendered from `RunReport`: JUnit XML, JSON, self-contained HTML."""

from orchestra.reports.html import render_html
from orchestra.reports.json_report import render_json
from orchestra.reports.junit import render_junit
from orchestra.reports.model import RunReport, step_report

__all__ = ["RunReport", "render_html", "render_json", "render_junit", "step_report"]
