"""Request bodies spooled to files, so that a large upload is never whole in the server's memory.

`Uploads.spooled(request)` writes the body, as it arrives, to a file in a directory of its own
under the server's upload directory and gives the file's path (named `body`: a name the client
chose, a data set's, is never a file's); the directory is deleted when the request ends,
however it ends (answered, refused, the client gone). The body's size limit
(`bodies.BodyLimit`) is enforced by the chunks the body arrives in, and the token checked
(`bodies.TokenGate`) before any is read. The upload directory is the server's own, temporary,
deleted when it stops.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

from fastapi import Request


class Uploads:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @asynccontextmanager
    async def spooled(self, request: Request) -> AsyncIterator[Path]:
        """The body of `request` as a file, in a directory that is the request's own (where
        the use case may write what it makes of the file, deleted with it)."""
        own = Path(tempfile.mkdtemp(prefix="upload-", dir=self.directory))
        try:
            path = own / "body"
            # written on the loop as each chunk arrives (256 KiB at most, what asyncio reads
            # from a socket at once): a write to the page cache takes less than a hand-over
            # to a thread would
            with path.open("wb") as sink:
                async for chunk in request.stream():
                    sink.write(chunk)
            yield path
        finally:  # in a thread: deleting tens of MiB takes milliseconds
            await asyncio.to_thread(shutil.rmtree, own, ignore_errors=True)


@contextmanager
def upload_directory(chosen: Path | None) -> Iterator[Uploads]:
    """Uploads spooled under `chosen`, or a temporary directory deleted when the server stops."""
    if chosen is not None:
        yield Uploads(chosen)
        return
    with tempfile.TemporaryDirectory(prefix="orchestra-uploads-") as directory:
        yield Uploads(Path(directory))
