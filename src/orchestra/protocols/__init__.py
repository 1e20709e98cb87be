"""Action protocols: how a step's action reaches the system under test.

Each protocol is a plug-in behind the small interface of `orchestra.protocols.base`: HTTP
(`orchestra.protocols.http`, its client on aiohttp in `http_client`) is built in; others are
found through the entry-point group `orchestra.protocols` by `orchestra.protocols.registry`.
See docs/protocols.md.
"""
