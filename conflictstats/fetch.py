"""Download a published release and verify every byte against hashes the package already holds.

Trust is anchored in the installed package, not in the server: ``RELEASES`` (shipped beside
each dataset, see :mod:`conflictstats.release`) holds the SHA-256 of each known release's
``SHA256SUMS``; that file, once verified, pins every other file. So any mirror (``base_url``)
may serve a known release. A release the package does not know is refused unless the caller
passes the SHA-256 of its ``SHA256SUMS`` (published with the release) as ``sha256sums``.

Files are small, so each is downloaded into memory, checked (length, then SHA-256) and only
then written with :func:`store.atomic_write_bytes`: a failed, interrupted or killed download
never leaves a partial file in the cache. ``SHA256SUMS`` is written last, so a cached folder
that has it is complete. URLs are versioned: ``{base_url}/{dataset}/{release}/{file}``; https
only, except plain http to the loopback interface (tests).

pooch offers the same registry-of-hashes model, but writes through a named temporary file and
phrases its own errors; these few lines give exact messages and no leftovers even on SIGKILL.
"""

from __future__ import annotations

import http.client
import ipaddress
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .errors import IntegrityError, UnknownNameError, UnreadableError
from .registry import DEFAULT_DATASET, dataset_info
from .manifest import ANCHORS, SUMS_FILE, parse_listing, read_anchors, require_hash, sha256_bytes, sha256_file
from .release import check_release_name
from .store import atomic_write_bytes, sweep_temporaries

ENV_CACHE = "CONFLICTSTATS_DATA"
ENV_BASE_URL = "CONFLICTSTATS_BASE_URL"
DEFAULT_BASE_URL = "https://conflictstats.github.io/releases"
MAX_FILE_BYTES = 512 * 1024**2
_CHUNK = 1 << 16
DEADLINE_FACTOR = 10  # a whole file must arrive within this many ``timeout``s (stops slow drips)
_LOOPBACK_NAMES = {"localhost"}

__all__ = ["fetch", "release_dir", "cache_root"]


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where fetched releases live: ``cache_dir``, else $CONFLICTSTATS_DATA, else the user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir)
    if os.environ.get(ENV_CACHE):
        return Path(os.environ[ENV_CACHE])
    import platformdirs

    return Path(platformdirs.user_cache_dir("conflictstats"))


def release_dir(dataset: str, release: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder of a fetched release, ready for :func:`conflictstats.load` to read.

    Its files are verified on every read against its ``SHA256SUMS``; for a release the package
    knows, ``SHA256SUMS`` is itself checked against the shipped anchor here.
    """
    info = dataset_info(dataset)
    check_release_name(release)
    folder = cache_root(cache_dir) / info.name / release
    if not (folder / SUMS_FILE).is_file():
        if release == info.release:  # the release shipped with the package needs no download
            return info.path
        raise UnreadableError(f"release {release} of {dataset} has not been fetched into {folder}; run "
                              f"`conflictstats fetch --dataset {dataset} --release {release}` first.")
    anchor = read_anchors(info.path).get(release)
    if anchor is not None:
        require_hash(folder / SUMS_FILE, sha256_file(folder / SUMS_FILE), anchor,
                     f"the package's {ANCHORS} pins it; fetch the release again.")
    return folder


def fetch(dataset: str = DEFAULT_DATASET, release: str | None = None, base_url: str | None = None,
          cache_dir: str | os.PathLike | None = None, *, sha256sums: str | None = None,
          timeout: float = 30.0, retries: int = 2) -> dict[str, Path]:
    """Download (or reuse from the cache) every file of a release, verified; returns {file: path}.

    ``release`` defaults to the release shipped with the package; ``base_url`` to
    $CONFLICTSTATS_BASE_URL or the project's release site. ``sha256sums`` (the SHA-256 of the
    release's SHA256SUMS) is required for releases this package does not know. ``timeout`` bounds
    each network wait in seconds (a whole file gets DEADLINE_FACTOR times as long); ``retries``
    re-tries timeouts, dropped connections and HTTP 5xx, never a 404 or a hash mismatch.
    """
    info = dataset_info(dataset)
    release = check_release_name(release or info.release)
    anchor = _anchor(info.path, info.name, release, sha256sums)
    base = _check_base_url(base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL)
    folder = cache_root(cache_dir) / info.name / release
    folder.mkdir(parents=True, exist_ok=True)
    sweep_temporaries(folder)
    get = _Getter(base, info.name, release, timeout, retries)

    sums_path = folder / SUMS_FILE
    cached = sums_path.is_file() and sha256_file(sums_path) == anchor
    if not cached and sums_path.exists():
        sums_path.unlink()  # a stale list: the folder counts as incomplete until every file is verified
    sums_bytes = sums_path.read_bytes() if cached else get(SUMS_FILE, anchor)
    listed = parse_listing(sums_bytes.decode("utf-8", errors="replace"), get.url(SUMS_FILE))
    paths = {}
    for name, expected in sorted(listed.items()):
        path = folder / name
        if not (path.is_file() and sha256_file(path) == expected):
            atomic_write_bytes(path, get(name, expected))
        paths[name] = path
    if not cached:
        atomic_write_bytes(sums_path, sums_bytes)  # last: a folder with SHA256SUMS is complete
    paths[SUMS_FILE] = sums_path
    return paths


def _anchor(dataset_path: Path, dataset: str, release: str, sha256sums: str | None) -> str:
    known = read_anchors(dataset_path).get(release)
    if sha256sums is not None:
        given = sha256sums.strip().lower().removeprefix("sha256:")
        if len(given) != 64 or any(ch not in "0123456789abcdef" for ch in given):
            raise UnknownNameError(f"sha256sums must be the 64-hex-digit SHA-256 of the release's {SUMS_FILE}, "
                                   f"not '{sha256sums}'.")
        if known is not None and known != given:
            raise IntegrityError(f"release {release} of {dataset}: the given sha256sums {given} differs from the "
                                 f"one this package ships in {ANCHORS} ({known}); refusing to mix them.")
        return given
    if known is None:
        shipped = ", ".join(sorted(read_anchors(dataset_path))) or "none"
        raise IntegrityError(f"release {release} of {dataset} is not known to this version of conflictstats "
                             f"(known: {shipped}), so its files cannot be verified; pass the SHA-256 of its "
                             f"{SUMS_FILE} (published with the release) as sha256sums / --sha256sums.")
    return known


def _check_base_url(base_url: str) -> str:
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme == "https" and parts.hostname:
        return base_url.rstrip("/")
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return base_url.rstrip("/")
    raise UnknownNameError(f"base URL '{base_url}' refused: releases are fetched over https only "
                           f"(plain http is allowed to 127.0.0.1 / localhost for testing).")


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Getter:
    """Downloads one file of one release with retries, and checks it before anyone sees it."""

    def __init__(self, base: str, dataset: str, release: str, timeout: float, retries: int):
        self.base, self.dataset, self.release = base, dataset, release
        self.timeout, self.retries = float(timeout), max(0, int(retries))
        loopback = _is_loopback(urllib.parse.urlsplit(base).hostname or "")
        # Loopback requests must never go through a proxy from the environment.
        self.opener = urllib.request.build_opener(*([urllib.request.ProxyHandler({})] if loopback else []))

    def url(self, name: str) -> str:
        return f"{self.base}/{urllib.parse.quote(self.dataset)}/{urllib.parse.quote(self.release)}/" \
               f"{urllib.parse.quote(name)}"

    def __call__(self, name: str, expected: str) -> bytes:
        url = self.url(name)
        for attempt in range(self.retries + 1):
            try:
                data, declared = self._download(url)
                break
            except _Transient as exc:
                if attempt == self.retries:
                    raise UnreadableError(f"{name}: {exc} (URL {url}; {attempt + 1} attempt"
                                          f"{'s' if attempt else ''}; expected SHA-256 {expected}). "
                                          f"Nothing was written to the cache.") from None
                time.sleep(min(0.5 * (attempt + 1), 2.0))
        got = sha256_bytes(data)
        if declared is not None and len(data) != declared:
            raise IntegrityError(f"{name}: truncated download from {url}: received {len(data)} of {declared} "
                                 f"bytes (expected SHA-256 {expected}, got {got} for the bytes received). "
                                 f"Nothing was written to the cache.")
        require_hash(name, got, expected, f"{len(data)} bytes from {url}: the file is corrupt, truncated or "
                     f"not the published one. Nothing was written to the cache.")
        return data

    def _download(self, url: str) -> tuple[bytes, int | None]:
        """The body and the Content-Length the server declared (None if it declared none)."""
        req = urllib.request.Request(url, headers={"User-Agent": "conflictstats-fetch"})
        deadline = time.monotonic() + self.timeout * DEADLINE_FACTOR
        try:
            with self.opener.open(req, timeout=self.timeout) as resp:
                declared = resp.headers.get("Content-Length")
                declared = int(declared) if declared and declared.isdigit() else None
                if declared is not None and declared > MAX_FILE_BYTES:
                    raise UnreadableError(f"{url}: {declared} bytes is larger than the {MAX_FILE_BYTES} bytes "
                                          f"a release file may have.")
                chunks, size = [], 0
                while True:
                    try:
                        chunk = resp.read1(_CHUNK)  # returns what has arrived, so the deadline is checked often
                    except http.client.IncompleteRead as exc:  # connection closed early
                        chunks.append(exc.partial)
                        break
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                    if time.monotonic() > deadline:
                        raise _Transient(f"download not finished within {self.timeout * DEADLINE_FACTOR:g} s "
                                         f"({size} bytes received)")
                    if size > MAX_FILE_BYTES:
                        raise UnreadableError(f"{url}: more than {MAX_FILE_BYTES} bytes; refusing the download.")
                return b"".join(chunks), declared
        except urllib.error.HTTPError as exc:
            if exc.code >= 500 or exc.code == 429:
                raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
            raise UnreadableError(f"{url.rsplit('/', 1)[-1]}: HTTP {exc.code} {exc.reason} from {url}; release "
                                  f"{self.release} of {self.dataset} is not published there. Nothing was "
                                  f"written to the cache.") from None
        except (TimeoutError, socket.timeout):
            raise _Transient(f"no answer within {self.timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (TimeoutError, socket.timeout)):
                raise _Transient(f"no answer within {self.timeout:g} s") from None
            raise _Transient(f"cannot connect: {exc.reason}") from None
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            raise _Transient(f"connection failed: {exc}") from None


class _Transient(Exception):
    """A failure worth retrying (timeout, dropped connection, HTTP 5xx)."""
