"""The REST API: `create_app(settings, token=...)`, served by `orchestra serve`."""

from orchestra.api.app import create_app

__all__ = ["create_app"]
