"""fetch(): real downloads from a real http.server on 127.0.0.1 serving a release built into tmp.

Covers a good download, a tampered file, a truncated file, a 404, a slow server with a
timeout, cache reuse without a second download (requests are counted on the server), the
trust anchor (unknown releases refused, known ones pinned by the package) and load(release=).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import conflictstats as cs
from conflictstats.build import build
from conflictstats.errors import IntegrityError, UnknownNameError, UnreadableError
from conflictstats.fetch import fetch, release_dir
from conflictstats.registry import DEFAULT_DATASET, dataset_info
from conflictstats.manifest import ANCHORS, read_anchors
from conflictstats.manifest import SUMS_FILE, read_sums, sha256_bytes, sha256_file
from conflictstats.store import TMP_PREFIX
from conftest import run_cli
from httpserver import Behaviour, serve

DS = DEFAULT_DATASET
REL = "9.9.9-test"  # served under a release name the package does not know: needs sha256sums


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A release folder written by the real `build` (never the shipped one)."""
    out = tmp_path_factory.mktemp("built")
    build(DS, out)
    return out


@pytest.fixture
def site(tmp_path, built):
    """A web root holding the built release at /{dataset}/{release}/, and its anchor."""
    root = tmp_path / "www"
    shutil.copytree(built, root / DS / REL)
    return root, sha256_file(built / SUMS_FILE)


@pytest.fixture
def shipped_site(tmp_path):
    """A web root serving the shipped release (every file SHA256SUMS lists, and SHA256SUMS) at
    /{dataset}/{release}/; yields (root, the served folder, the dataset's info)."""
    info = dataset_info(DS)
    root = tmp_path / "www"
    served = root / DS / info.release
    served.mkdir(parents=True)
    for name in [*read_sums(info.path), SUMS_FILE]:
        shutil.copy2(info.path / name, served / name)
    return root, served, info


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CONFLICTSTATS_DATA", str(folder))
    return folder


def _path(name: str, release: str = REL) -> str:
    return f"/{DS}/{release}/{name}"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.startswith((TMP_PREFIX, "tmp")))


def test_good_download_then_load(site, cache, built):
    root, anchor = site
    with serve(root) as srv:
        paths = fetch(DS, REL, base_url=srv.url, sha256sums=anchor)
        listed = read_sums(built)
        assert set(paths) == set(listed) | {SUMS_FILE}
        for name, expected in listed.items():
            assert sha256_file(paths[name]) == expected
        assert srv.count() == len(listed) + 1  # each file once, SHA256SUMS included
    assert release_dir(DS, REL) == cache / DS / REL
    figures = cs.load("figures", DS, release=REL)
    assert len(figures) == pq.read_metadata(built / "figures.parquet").num_rows
    assert str(figures["period_end"].dtype).startswith("datetime64")


def test_cache_reuse_makes_no_second_download(site, cache):
    root, anchor = site
    with serve(root) as srv:
        fetch(DS, REL, base_url=srv.url, sha256sums=anchor)
        first = srv.count()
        again = fetch(DS, REL, base_url=srv.url, sha256sums=anchor)
        assert srv.count() == first  # nothing requested the second time
        assert all(p.is_file() for p in again.values())


def test_a_damaged_cached_file_is_downloaded_again(site, cache):
    root, anchor = site
    with serve(root) as srv:
        paths = fetch(DS, REL, base_url=srv.url, sha256sums=anchor)
        paths["events.parquet"].write_bytes(b"garbage")
        before = srv.count()
        fetch(DS, REL, base_url=srv.url, sha256sums=anchor)
        assert srv.count() == before + 1
        assert srv.requests[_path("events.parquet")] == 2


def test_tampered_file_is_refused_and_not_cached(site, cache, built):
    root, anchor = site
    good = (built / "figures.parquet").read_bytes()
    bad = bytearray(good)
    bad[len(bad) // 2] ^= 0xFF
    with serve(root) as srv:
        srv.behaviours[_path("figures.parquet")] = Behaviour(body=bytes(bad))
        with pytest.raises(IntegrityError) as err:
            fetch(DS, REL, base_url=srv.url, sha256sums=anchor, retries=0)
    msg = str(err.value)
    assert "figures.parquet" in msg and "mismatch" in msg
    assert read_sums(built)["figures.parquet"] in msg and sha256_bytes(bytes(bad)) in msg
    folder = cache / DS / REL
    assert not (folder / "figures.parquet").exists()
    assert not (folder / SUMS_FILE).exists()  # the release is not marked complete
    assert _leftovers(cache) == []
    with pytest.raises(UnreadableError, match="has not been fetched"):
        cs.load("figures", DS, release=REL)


def test_tampered_sums_file_is_refused(site, cache):
    root, anchor = site
    with serve(root) as srv:
        sums = (root / DS / REL / SUMS_FILE).read_bytes()
        srv.behaviours[_path(SUMS_FILE)] = Behaviour(body=sums.replace(b"0", b"1", 1))
        with pytest.raises(IntegrityError, match=f"{SUMS_FILE}: SHA-256 mismatch.*expected {anchor}"):
            fetch(DS, REL, base_url=srv.url, sha256sums=anchor, retries=0)
        assert srv.count() == 1  # nothing else is trusted or requested
    assert not any((cache / DS / REL).iterdir())


def test_truncated_file_is_refused_and_not_cached(site, cache, built):
    root, anchor = site
    size = (built / "sources.parquet").stat().st_size
    with serve(root) as srv:
        srv.behaviours[_path("sources.parquet")] = Behaviour(truncate_to=size // 3)
        with pytest.raises(IntegrityError) as err:
            fetch(DS, REL, base_url=srv.url, sha256sums=anchor, retries=0)
    msg = str(err.value)
    assert "sources.parquet" in msg and "truncated" in msg and f"{size // 3} of {size} bytes" in msg
    partial = (built / "sources.parquet").read_bytes()[: size // 3]
    assert read_sums(built)["sources.parquet"] in msg and sha256_bytes(partial) in msg
    assert not (cache / DS / REL / "sources.parquet").exists()
    assert _leftovers(cache) == []


def test_404_names_the_file(site, cache):
    root, anchor = site
    (root / DS / REL / "codebook.parquet").unlink()
    with serve(root) as srv:
        with pytest.raises(UnreadableError, match=r"codebook\.parquet: HTTP 404"):
            fetch(DS, REL, base_url=srv.url, sha256sums=anchor)
        assert srv.requests[_path("codebook.parquet")] == 1  # a 404 is not retried
        with pytest.raises(UnreadableError, match=rf"{SUMS_FILE}: HTTP 404"):
            fetch(DS, "0.0.1-missing", base_url=srv.url, sha256sums=anchor)
    assert not (cache / DS / REL / "codebook.parquet").exists()
    assert not (cache / DS / REL / SUMS_FILE).exists()


def test_slow_server_times_out_quickly(site, cache):
    root, anchor = site
    with serve(root) as srv:
        srv.behaviours[_path(SUMS_FILE)] = Behaviour(delay=10)
        start = time.monotonic()
        with pytest.raises(UnreadableError, match=r"no answer within 0\.3 s.*2 attempts"):
            fetch(DS, REL, base_url=srv.url, sha256sums=anchor, timeout=0.3, retries=1)
        elapsed = time.monotonic() - start
        assert srv.requests[_path(SUMS_FILE)] == 2  # retried once
        srv.release.set()
    assert elapsed < 5
    assert not any((cache / DS / REL).iterdir())


def test_a_dripping_server_is_cut_off_by_the_whole_file_deadline(site, cache):
    """Each piece arrives well within the timeout, but the file as a whole must not take forever."""
    root, anchor = site
    with serve(root) as srv:
        srv.behaviours[_path("figures.parquet")] = Behaviour(drip=0.02)
        start = time.monotonic()
        with pytest.raises(UnreadableError, match=r"figures\.parquet: download not finished within 2 s"):
            fetch(DS, REL, base_url=srv.url, sha256sums=anchor, timeout=0.2, retries=0)
        srv.release.set()
    assert time.monotonic() - start < 6
    assert not (cache / DS / REL / "figures.parquet").exists()


def test_unknown_release_without_hash_is_refused_before_any_request(site, cache):
    root, _ = site
    with serve(root) as srv:
        with pytest.raises(IntegrityError, match="not known to this version"):
            fetch(DS, REL, base_url=srv.url)
        assert srv.count() == 0


@pytest.mark.parametrize("url", ["http://example.org/releases", "ftp://127.0.0.1/x", "file:///tmp/x"])
def test_only_https_or_loopback_http(url, cache):
    with pytest.raises(UnknownNameError, match="https only"):
        fetch(DS, REL, base_url=url, sha256sums="0" * 64)


@pytest.mark.parametrize("release", ["../x", "a/b", "..", ""])
def test_malformed_release_names_never_reach_the_file_system(release, cache):
    with pytest.raises((UnreadableError, IntegrityError)):
        fetch(DS, release or "/", base_url="https://127.0.0.1", sha256sums="0" * 64)


def test_shipped_release_is_pinned_by_the_package_anchor(shipped_site, cache):
    """The shipped folder is the published release: RELEASES pins its SHA256SUMS, no hash needed."""
    root, _, info = shipped_site
    anchors = read_anchors(info.path)
    assert anchors.get(info.release) == sha256_file(info.path / SUMS_FILE), \
        f"{info.path / ANCHORS} is stale: run `conflictstats build`"
    with serve(root) as srv:
        paths = fetch(DS, base_url=srv.url)
        assert paths[SUMS_FILE].parent == cache / DS / info.release
        # A different hash for a known release is refused rather than trusted.
        with pytest.raises(IntegrityError, match="differs from the one this package ships"):
            fetch(DS, base_url=srv.url, sha256sums="0" * 64)
    assert len(cs.load("events", DS, release=info.release)) == len(cs.load("events", DS))
    # A cached SHA256SUMS changed after the download no longer matches the package's anchor.
    paths[SUMS_FILE].write_text(paths[SUMS_FILE].read_text() + "\n")
    with pytest.raises(IntegrityError, match="SHA-256 mismatch"):
        cs.load("events", DS, release=info.release)


def test_load_verifies_fetched_files_like_shipped_ones(site, cache):
    root, anchor = site
    with serve(root) as srv:
        paths = fetch(DS, REL, base_url=srv.url, sha256sums=anchor)
    data = bytearray(paths["codebook.parquet"].read_bytes())
    data[-20] ^= 0x01
    paths["codebook.parquet"].write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="codebook.parquet: SHA-256 mismatch"):
        cs.load("codebook", DS, release=REL)


def test_cli_fetch_prints_files_and_exit_codes(shipped_site, tmp_path):
    root, served, _ = shipped_site
    with serve(root) as srv:
        ok = run_cli("fetch", "--base-url", srv.url, "--cache-dir", str(tmp_path / "c"))
        assert ok.returncode == 0, ok.stderr
        assert "all SHA-256 verified" in ok.stdout and "figures.parquet" in ok.stdout
        missing = run_cli("fetch", "--release", "0.0.0", "--base-url", srv.url, "--cache-dir", str(tmp_path / "c"))
        assert missing.returncode == 4 and "not known to this version" in missing.stderr
        assert "Traceback" not in missing.stderr
        (served / "events.parquet").unlink()
        gone = run_cli("fetch", "--base-url", srv.url, "--cache-dir", str(tmp_path / "d"))
        assert gone.returncode == 2 and "events.parquet: HTTP 404" in gone.stderr
        assert "Traceback" not in gone.stderr


def test_a_fetched_release_can_be_exported(site, cache, built, tmp_path):
    from conflictstats.export import export

    root, anchor = site
    with serve(root) as srv:
        fetch(DS, REL, base_url=srv.url, sha256sums=anchor)
    out = export(DS, "parquet", tmp_path / "out", release=REL)
    for name in ("figures.parquet", "datapackage.json"):
        assert out[name].read_bytes() == (built / name).read_bytes()


# --- redirects (issue 18): https only, plain http only within loopback --------------------------

def test_a_redirect_off_loopback_over_plain_http_is_refused_naming_the_target(shipped_site, tmp_path, monkeypatch):
    """The loopback server answers 302 to a plain-http address on another host: fetch fails with
    exit 2 naming that target, before any connection to it (the test needs no other network)."""
    root, _, info = shipped_site
    target = "http://203.0.113.7/releases/" + SUMS_FILE  # TEST-NET-3: never routed
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # a proxy would be refused too: none is used
    with serve(root) as srv:
        srv.behaviours[f"/{DS}/{info.release}/{SUMS_FILE}"] = Behaviour(status=302, location=target)
        proc = run_cli("fetch", "--base-url", srv.url, "--cache-dir", str(tmp_path / "c"), "--timeout", "2")
        assert srv.count() == 1
    assert proc.returncode == 2, proc.stderr
    assert target in proc.stderr and "refused" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "c" / DS / info.release / SUMS_FILE).exists()


@pytest.mark.parametrize("target", ["ftp://127.0.0.1/x", "file:///etc/passwd", "http://example.org/x"])
def test_a_redirect_to_any_scheme_but_https_is_refused(site, cache, target):
    root, anchor = site
    with serve(root) as srv:
        srv.behaviours[_path("events.parquet")] = Behaviour(status=301, location=target)
        with pytest.raises(UnreadableError, match=f"events.parquet: .* redirects to {target}, refused"):
            fetch(DS, REL, base_url=srv.url, sha256sums=anchor, retries=0)
    assert not (cache / DS / REL / "events.parquet").exists()
    assert not (cache / DS / REL / SUMS_FILE).exists()


def test_a_redirect_within_loopback_is_followed_and_errors_name_the_final_url(site, cache, built):
    root, anchor = site
    with serve(root) as srv:
        moved = f"{srv.url}/mirror/{DS}/{REL}/codebook.parquet"
        srv.behaviours[_path("codebook.parquet")] = Behaviour(status=302, location=moved)
        shutil.copytree(root / DS / REL, root / "mirror" / DS / REL)
        paths = fetch(DS, REL, base_url=srv.url, sha256sums=anchor)
        assert srv.requests[f"/mirror/{DS}/{REL}/codebook.parquet"] == 1
        assert sha256_file(paths["codebook.parquet"]) == read_sums(built)["codebook.parquet"]
        (root / "mirror" / DS / REL / "codebook.parquet").write_bytes(b"not the file")
        paths["codebook.parquet"].unlink()
        with pytest.raises(IntegrityError, match=f"codebook.parquet: SHA-256 mismatch.*from {moved}"):
            fetch(DS, REL, base_url=srv.url, sha256sums=anchor, retries=0)


# --- the cache folder (issue 18): unwritable is a clear exit 2, never a bug -------------------------

def _unwritable_folders(tmp_path: Path) -> list[Path]:
    """Folders this process cannot write into: under a file, read-only by mode (not for root),
    and a read-only file system where the test runs as root."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = [blocker / "cache"]
    import os

    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        out.append(ro / "cache")
    elif Path("/sys").is_dir():
        out.append(Path("/sys/conflictstats-cache"))
    return out


def test_an_unwritable_cache_folder_exits_2_with_a_message(shipped_site, tmp_path):
    root, _, _ = shipped_site
    with serve(root) as srv:
        for folder in _unwritable_folders(tmp_path):
            proc = run_cli("fetch", "--base-url", srv.url, "--cache-dir", str(folder))
            assert proc.returncode == 2, (folder, proc.stderr)
            assert "cannot write the fetched release" in proc.stderr and "--cache-dir" in proc.stderr
            assert "Traceback" not in proc.stderr and "bug" not in proc.stderr


def test_progress_is_silent_when_not_a_terminal_and_pooch_announces_nothing(shipped_site, tmp_path):
    root, _, _ = shipped_site
    with serve(root) as srv:
        proc = run_cli("fetch", "--base-url", srv.url, "--cache-dir", str(tmp_path / "c"))
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_an_export_file_name_from_a_bad_datapackage_version_is_refused(site, cache, tmp_path):
    """A release's datapackage.json names its version; the xlsx file name is built from it, so a
    version that is not a release name (a path) is refused, not written."""
    import json

    from conflictstats.export import export
    from conflictstats.manifest import write_with_sums

    root, _ = site
    served = root / DS / REL
    package = json.loads((served / "datapackage.json").read_text())
    package["version"] = "../../escaped"
    files = {p.name: p.read_bytes() for p in served.iterdir() if p.name != SUMS_FILE}
    files["datapackage.json"] = json.dumps(package).encode()
    write_with_sums(served, files)
    with serve(root) as srv:
        fetch(DS, REL, base_url=srv.url, sha256sums=sha256_file(served / SUMS_FILE))
    with pytest.raises(IntegrityError, match="not a valid release name"):
        export(DS, "xlsx", tmp_path / "out", release=REL)
    assert not any((tmp_path / "out").glob("*.xlsx")) and not (tmp_path / "escaped.xlsx").exists()


def _redirect_cases() -> list[tuple[str, str]]:
    """The bad-input corpus's redirect cases (tests/data/bad/MANIFEST.tsv, kind "redirect")."""
    bad = Path(__file__).resolve().parent / "data" / "bad"
    rows = [line.split("\t") for line in (bad / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return [(r[0], (bad / r[0]).read_text(encoding="utf-8").strip()) for r in rows if r[1] == "redirect"]


@pytest.mark.parametrize("case,target", _redirect_cases())
def test_bad_redirect_corpus_is_refused_naming_the_target(case, target, site, cache):
    """Every redirect in the corpus is refused (exit 2 on the command line: UnreadableError) and
    named, and nothing is left in the cache."""
    root, anchor = site
    with serve(root) as srv:
        srv.behaviours[_path("events.parquet")] = Behaviour(status=302, location=target)
        with pytest.raises(UnreadableError, match="refused") as err:
            fetch(DS, REL, base_url=srv.url, sha256sums=anchor, retries=0)
    assert target in str(err.value), case
    assert not (cache / DS / REL / "events.parquet").exists()
