"""`python -m orchestra.schemas`: regenerate the shipped schema files after changing a model."""

from __future__ import annotations

from orchestra.schemas import write_schemas

if __name__ == "__main__":
    for path in write_schemas():
        print(f"wrote {path}")
