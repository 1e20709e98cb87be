"""`python -m orchestra.reports.schema`: regenerate report.schema.json after changing a model."""

from __future__ import annotations

from orchestra.reports.json_report import SCHEMA_PATH, write_schema

if __name__ == "__main__":
    write_schema()
    print(f"wrote {SCHEMA_PATH}")
