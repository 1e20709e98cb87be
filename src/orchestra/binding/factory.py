"""The executor factory the runtime's workers call: one StepExecutor per stored environment.

Secrets are resolved here, from the worker's own process environment, so they exist only in the
memory of the processes that need them.
"""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Mapping

from orchestra.binding.environment import EnvironmentSpec, resolve_secrets, stored_environment
from orchestra.binding.executor import StepExecutor
from orchestra.domain.records import Environment
from orchestra.runtime.ports import ExecutorFactory

NO_ENVIRONMENT = EnvironmentSpec(name="(none)")


def executor_factory(environ: Mapping[str, str] | None = None) -> ExecutorFactory:
    """`executor_factory()` for a worker; pass `environ` to resolve secrets from elsewhere."""

    async def build(environment: Environment | None) -> StepExecutor:
        await asyncio.to_thread(_import_http_client)
        variables = os.environ if environ is None else environ
        if environment is None:
            # Without an environment only absolute URLs can be reached.
            return StepExecutor(NO_ENVIRONMENT, {})
        spec = stored_environment(environment.name, environment.configuration)
        return StepExecutor(spec, resolve_secrets(spec, variables))

    return build


def _import_http_client() -> None:
    """The HTTP client (aiohttp: 0.1-0.2 s of imports, its TLS contexts loading the system's
    certificates) imported off the event loop, before the first request needs it: imported
    there, it held the loop, every run and heartbeat of the worker waiting."""
    importlib.import_module("orchestra.protocols.http_client")
