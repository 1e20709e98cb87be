"""Action protocols: how a step's action reaches the system under test.

Each protocol is one module behind the small interface of `orchestra.protocols.base`; HTTP
(`orchestra.protocols.http`, on aiohttp) is the first.
"""
