"""`${NAME}`: a reference to the process environment variable NAME, resolved at run time.

Secret fields of environments (auth tokens, passwords, API keys, client secrets, `secrets`
entries, a TLS key's password) must hold a reference, so neither a file nor the database ever
holds the secret itself. `${secret:NAME}` is the same reference, declaring NAME's value a
secret wherever it is written (a base URL's host, say): results and reports mask it.
"""

from __future__ import annotations

import re

from pydantic import ValidationInfo

REFERENCE = re.compile(r"\$\{(?:secret:)?([A-Za-z_][A-Za-z0-9_]*)\}")
SECRET_REFERENCE = re.compile(r"\$\{secret:([A-Za-z_][A-Za-z0-9_]*)\}")


def reference_only(field: str, value: str | None) -> None:
    """Refuse a secret field's value that references no variable (a literal secret)."""
    if value is not None and not REFERENCE.search(value):
        raise ValueError(f"`{field}` is a secret: write a reference such as ${{MY_VARIABLE}}")


def is_resolved(info: ValidationInfo) -> bool:
    """Whether the values being validated have had their references substituted already."""
    return bool(info.context and info.context.get("resolved"))
