"""Static files under fingerprinted names: `static_url("site.css")` gives
`/static/site.<hash>.css`, which is served for a year as immutable (a change to the file makes a
new name, so browsers never keep a stale copy). The plain name still answers, revalidated on
each use; a fingerprint that is not the file's current one is a 404."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

FINGERPRINT_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"  # plain names: kept, but checked (ETag) before each use
_FINGERPRINTED = re.compile(
    rf"(?P<stem>[^/]+)\.(?P<hash>[0-9a-f]{{{FINGERPRINT_LENGTH}}})(?P<ext>\.[A-Za-z0-9]+)"
)


class Fingerprints:
    """Each static file's fingerprint: the start of its content's SHA-256, computed again
    only when its size or modification time changes (a file edited while `farm dev` runs
    gets a new name at once)."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._known: dict[str, tuple[tuple[int, int], str]] = {}
        self._texts: dict[str, tuple[str, str]] = {}

    def of(self, name: str) -> str | None:
        """The fingerprint of the file `name` (relative to the directory), None if absent."""
        path = (self.directory / name).resolve()
        if self.directory.resolve() not in path.parents or not path.is_file():
            return None
        stat = path.stat()
        key = (stat.st_size, stat.st_mtime_ns)
        known = self._known.get(name)
        if known and known[0] == key:
            return known[1]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:FINGERPRINT_LENGTH]
        self._known[name] = (key, digest)
        return digest

    def text(self, name: str) -> str:
        """The file's text, read again only when it changed (for a stylesheet put inline)."""
        fingerprint = self.of(name)
        if fingerprint is None:
            raise LookupError(f"no static file {name!r}")
        cached = self._texts.get(name)
        if cached is None or cached[0] != fingerprint:
            cached = (fingerprint, (self.directory / name).read_text())
            self._texts[name] = cached
        return cached[1]

    def url(self, name: str) -> str:
        """`/static/<stem>.<fingerprint><ext>`; a file that does not exist is a bug in a
        template, shown at once rather than as a broken page."""
        fingerprint = self.of(name)
        if fingerprint is None:
            raise LookupError(f"no static file {name!r}")
        stem, dot, ext = name.rpartition(".")
        return f"/static/{stem}.{fingerprint}.{ext}" if dot else f"/static/{name}.{fingerprint}"

    def plain_name(self, path: str) -> str | None:
        """'site.<fingerprint>.css' -> 'site.css' when the fingerprint is the file's current
        one; None when `path` is not a fingerprinted name; '' for a stale or unknown one."""
        match = _FINGERPRINTED.fullmatch(path.rsplit("/", 1)[-1])
        if match is None:
            return None
        folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
        plain = f"{folder}{match['stem']}{match['ext']}"
        return plain if self.of(plain) == match["hash"] else ""


class FingerprintedStatic(StaticFiles):
    """StaticFiles that also answers the fingerprinted names, with a year's cache."""

    def __init__(self, fingerprints: Fingerprints):
        super().__init__(directory=fingerprints.directory)
        self.fingerprints = fingerprints

    async def get_response(self, path: str, scope: Scope) -> Response:
        if (self.fingerprints.directory / path).is_file():
            response = await super().get_response(path, scope)
            if response.status_code in (200, 304):
                response.headers["Cache-Control"] = REVALIDATE
            return response
        plain = self.fingerprints.plain_name(path)
        if not plain:  # not fingerprinted (a missing file), or not the current fingerprint
            raise HTTPException(status_code=404)
        response = await super().get_response(plain, scope)
        if response.status_code in (200, 304):
            response.headers["Cache-Control"] = IMMUTABLE
        return response
