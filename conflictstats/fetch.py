"""Download a published release and verify every byte against hashes the package already holds.

Trust is anchored in the installed package, not in the server: ``RELEASES`` (shipped beside
each dataset, see :mod:`conflictstats.release`) holds the SHA-256 of each known release's
``SHA256SUMS``; that file, once verified, pins every other file. So any mirror (``base_url``)
may serve a known release. A release the package does not know is refused unless the caller
passes the SHA-256 of its ``SHA256SUMS`` (published with the release) as ``sha256sums``.

Downloads go through pooch (:func:`pooch.retrieve` with ``known_hash``): it skips a cached
file whose hash matches, downloads into a temporary file beside the target, checks the hash
and only then moves it into place, so a failed download never leaves a partial or unverified
file under a release file's name. ``SHA256SUMS`` is moved into place last, so a cached folder
that has it is complete. URLs are versioned: ``{base_url}/{dataset}/{release}/{file}``.

pooch cannot do four things, wrapped here in :class:`_Download` (a pooch downloader around
pooch's own ``HTTPDownloader``), not re-implemented: (1) https only except loopback, also for
every redirect (a requests response hook refuses the hop before it is followed); (2) retries
of timeouts, dropped connections and HTTP 5xx only, never of a 404 or a hash mismatch
(pooch's ``retry_if_failed`` retries everything); (3) a whole-file deadline and size limit
(requests' timeout bounds each wait, not a server dripping bytes); (4) messages that name
the file, the final URL and both hashes (pooch phrases its own). Progress is one tqdm bar
over the files (:mod:`conflictstats.progress`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import time
import urllib.parse
from pathlib import Path

from .errors import IntegrityError, UnknownNameError, UnreadableError
from .registry import DEFAULT_DATASET, dataset_info
from .manifest import ANCHORS, SUMS_FILE, parse_listing, read_anchors, require_hash, sha256_file
from .release import check_release_name
from .store import sweep_temporaries

ENV_CACHE = "CONFLICTSTATS_DATA"
ENV_BASE_URL = "CONFLICTSTATS_BASE_URL"
DEFAULT_BASE_URL = "https://conflictstats.github.io/releases"
MAX_FILE_BYTES = 512 * 1024**2
DEADLINE_FACTOR = 10  # a whole file must arrive within this many ``timeout``s (stops slow drips)
PENDING = f".{SUMS_FILE}.pending"  # the verified SHA256SUMS until every file it lists is in place
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
    Redirects are followed only to https (or, from loopback, within loopback).
    """
    info = dataset_info(dataset)
    release = check_release_name(release or info.release)
    anchor = _anchor(info.path, info.name, release, sha256sums)
    base = _check_base_url(base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL)
    folder = cache_root(cache_dir) / info.name / release
    try:
        return _fetch_into(folder, _Getter(base, info.name, release, timeout, retries), anchor)
    except OSError as exc:  # the cache folder: read-only, full, not a folder (never the network: see _Download)
        where = exc.filename or folder
        raise UnreadableError(f"{where}: cannot write the fetched release there ({exc.strerror or exc}); "
                              f"pass a writable --cache-dir or set ${ENV_CACHE}.") from None


def _fetch_into(folder: Path, get: "_Getter", anchor: str) -> dict[str, Path]:
    from .progress import progress

    folder.mkdir(parents=True, exist_ok=True)
    sweep_temporaries(folder)
    sums_path = folder / SUMS_FILE
    cached = sums_path.is_file() and sha256_file(sums_path) == anchor
    if not cached and sums_path.exists():
        sums_path.unlink()  # a stale list: the folder counts as incomplete until every file is verified
    listing = sums_path if cached else get(folder, SUMS_FILE, anchor, fname=PENDING)
    try:
        listed = parse_listing(listing.read_text(encoding="utf-8", errors="replace"), get.url(SUMS_FILE))
        paths = {name: get(folder, name, expected)
                 for name, expected in progress(sorted(listed.items()), desc=f"fetch {get.release}", unit="file")}
    except BaseException:
        if not cached:
            listing.unlink(missing_ok=True)
        raise
    if not cached:
        os.replace(listing, sums_path)  # last: a folder with SHA256SUMS is complete
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


def _allowed(url: str, came_from: str | None = None) -> bool:
    """https anywhere; plain http only to loopback, and (for a redirect) only from loopback."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    local = parts.scheme == "http" and bool(parts.hostname) and _is_loopback(parts.hostname)
    return local and (came_from is None or _is_loopback(urllib.parse.urlsplit(came_from).hostname or ""))


def _check_base_url(base_url: str) -> str:
    if _allowed(base_url):
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
    """Fetches one file of one release into the cache through :func:`pooch.retrieve`."""

    def __init__(self, base: str, dataset: str, release: str, timeout: float, retries: int):
        self.base, self.dataset, self.release = base, dataset, release
        self.timeout, self.retries = float(timeout), max(0, int(retries))

    def url(self, name: str) -> str:
        return f"{self.base}/{urllib.parse.quote(self.dataset)}/{urllib.parse.quote(self.release)}/" \
               f"{urllib.parse.quote(name)}"

    def __call__(self, folder: Path, name: str, expected: str, fname: str | None = None) -> Path:
        import logging

        import pooch

        log = pooch.get_logger()
        level = log.level
        log.setLevel(logging.WARNING)  # pooch announces each download on stderr; progress is ours
        try:
            return Path(pooch.retrieve(self.url(name), known_hash=f"sha256:{expected}", fname=fname or name,
                                       path=folder, downloader=_Download(self, name, expected)))
        finally:
            log.setLevel(level)


class _Download:
    """A pooch downloader: pooch's HTTPDownloader (requests) plus the guarantees pooch lacks
    (see the module docstring): redirect rule, selective retries, deadline, exact messages."""

    def __init__(self, getter: _Getter, name: str, expected: str):
        self.get, self.name, self.expected = getter, name, expected
        self.final_url = ""
        self.declared: int | None = None

    def __call__(self, url: str, output_file: str, pooch_obj, check_only: bool = False) -> bool | None:
        if check_only:
            return None
        retries = self.get.retries
        for attempt in range(retries + 1):
            try:
                with open(output_file, "w+b") as fh:  # a retry starts the temporary file afresh
                    sink = _Sink(fh, time.monotonic() + self.get.timeout * DEADLINE_FACTOR,
                                 self.get.timeout * DEADLINE_FACTOR)
                    self._download(url, sink)
                break
            except _Transient as exc:
                if attempt == retries:
                    raise UnreadableError(f"{self.name}: {exc} (URL {self.final_url or url}; {attempt + 1} "
                                          f"attempt{'s' if attempt else ''}; expected SHA-256 {self.expected}). "
                                          f"Nothing was written to the cache.") from None
                time.sleep(min(0.5 * (attempt + 1), 2.0))
        got, where = sink.sha256.hexdigest(), self.final_url or url
        if self.declared is not None and sink.size != self.declared:
            raise IntegrityError(f"{self.name}: truncated download from {where}: received {sink.size} of "
                                 f"{self.declared} bytes (expected SHA-256 {self.expected}, got {got} for the "
                                 f"bytes received). Nothing was written to the cache.")
        require_hash(self.name, got, self.expected, f"{sink.size} bytes from {where}: the file is corrupt, "
                     f"truncated or not the published one. Nothing was written to the cache.")
        return None

    def _download(self, url: str, sink: "_Sink") -> None:
        import pooch
        import requests

        self.final_url, self.declared = url, None
        local = _is_loopback(urllib.parse.urlsplit(url).hostname or "")
        # Loopback requests must never go through a proxy from the environment.
        proxies = {"http": None, "https": None, "all": None} if local else None
        http = pooch.HTTPDownloader(progressbar=False, timeout=self.get.timeout, proxies=proxies,
                                    headers={"User-Agent": "conflictstats-fetch"},
                                    hooks={"response": self._check_response})
        try:
            http(url, sink, None)
        except requests.HTTPError as exc:
            code, reason = exc.response.status_code, exc.response.reason
            if code >= 500 or code == 429:
                raise _Transient(f"HTTP {code} {reason}") from None
            raise UnreadableError(f"{self.name}: HTTP {code} {reason} from {self.final_url}; release "
                                  f"{self.get.release} of {self.get.dataset} is not published there. Nothing "
                                  f"was written to the cache.") from None
        except requests.Timeout:
            raise _Transient(f"no answer within {self.get.timeout:g} s") from None
        except requests.exceptions.ChunkedEncodingError as exc:  # the connection closed early
            if self.declared is None or sink.size >= self.declared:
                raise _Transient(f"connection failed: {exc}") from None
        except requests.ConnectionError as exc:
            raise _Transient(f"cannot connect: {exc}") from None
        except requests.RequestException as exc:
            raise UnreadableError(f"{self.name}: {type(exc).__name__}: {exc} (URL {self.final_url}).") from None

    def _check_response(self, resp, *args, **kwargs):
        """requests calls this for every response, each redirect hop included, before following it."""
        if resp.is_redirect:
            target = urllib.parse.urljoin(resp.url, resp.headers["location"])
            if not _allowed(target, came_from=resp.url):
                raise UnreadableError(f"{self.name}: {resp.url} redirects to {target}, refused: releases are "
                                      f"fetched over https only (plain http only within the loopback "
                                      f"interface). Nothing was written to the cache.")
            return resp
        self.final_url = resp.url
        # The length is checked after the download (the message then names the bytes received and
        # their hash); urllib3's own check would drop the last partial chunk with its error.
        if hasattr(resp.raw, "enforce_content_length"):
            resp.raw.enforce_content_length = False
        declared = resp.headers.get("Content-Length", "")
        self.declared = int(declared) if declared.isdigit() else None
        if self.declared is not None and self.declared > MAX_FILE_BYTES:
            raise UnreadableError(f"{resp.url}: {self.declared} bytes is larger than the {MAX_FILE_BYTES} "
                                  f"bytes a release file may have.")
        return resp


class _Sink:
    """The file pooch writes into, counting and hashing the bytes and enforcing the deadline."""

    def __init__(self, fh, deadline: float, seconds: float):
        self.fh, self.deadline, self.seconds = fh, deadline, seconds
        self.size = 0
        self.sha256 = hashlib.sha256()

    def write(self, chunk: bytes) -> int:
        self.size += len(chunk)
        if self.size > MAX_FILE_BYTES:
            raise UnreadableError(f"more than {MAX_FILE_BYTES} bytes; refusing the download.")
        if time.monotonic() > self.deadline:
            raise _Transient(f"download not finished within {self.seconds:g} s ({self.size} bytes received)")
        self.sha256.update(chunk)
        return self.fh.write(chunk)

    def flush(self) -> None:
        self.fh.flush()


class _Transient(Exception):
    """A failure worth retrying (timeout, dropped connection, HTTP 5xx)."""
