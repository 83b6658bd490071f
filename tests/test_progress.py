"""Progress bars (tqdm): shown on a terminal, silent in logs and CI, silenced by --quiet.

Run in a real pseudo-terminal (``pty``), so the terminal case is the real one.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNIPPET = ("import time; from conflictstats.progress import progress, quiet\n"
           "with quiet({q}):\n"
           "    for _ in progress(range(3), desc='counting-things'): time.sleep(0.05)\n")


def _in_terminal(args: list[str], timeout: float = 300) -> tuple[int, str]:
    """Run ``args`` with stdout and stderr on a pseudo-terminal; (exit code, all output)."""
    import fcntl
    import struct
    import termios

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a new pty is 0 wide
    proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=child, stderr=child)
    os.close(child)
    chunks = []
    while True:
        try:
            data = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    return proc.wait(timeout=timeout), b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal")
def test_a_terminal_shows_the_bar_and_quiet_silences_it():
    code, out = _in_terminal([sys.executable, "-c", SNIPPET.format(q=False)])
    assert code == 0 and "counting-things" in out and "/3 [" in out, out
    code, out = _in_terminal([sys.executable, "-c", SNIPPET.format(q=True)])
    assert code == 0 and out == "", out


def test_a_log_gets_no_bar():
    proc = subprocess.run([sys.executable, "-c", SNIPPET.format(q=False)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "" and proc.stdout == ""


@pytest.mark.skipif(not hasattr(pty, "openpty"), reason="needs a pseudo-terminal")
def test_fetch_shows_its_files_on_a_terminal_unless_quiet(tmp_path):
    """The same helper drives backtest, simulate, the report's fits and fetch; fetch is the quick one."""
    import shutil

    from conflictstats.manifest import SUMS_FILE, read_sums
    from conflictstats.registry import dataset_info
    from httpserver import serve

    info = dataset_info()
    served = tmp_path / "www" / info.name / info.release
    served.mkdir(parents=True)
    for name in [*read_sums(info.path), SUMS_FILE]:
        shutil.copy2(info.path / name, served / name)
    cli = [sys.executable, "-m", "conflictstats", "fetch"]
    with serve(tmp_path / "www") as srv:
        code, out = _in_terminal(cli + ["--base-url", srv.url, "--cache-dir", str(tmp_path / "a")])
        assert code == 0 and f"fetch {info.release}:" in out and "file/s]" in out, out
        code, out = _in_terminal(cli + ["--base-url", srv.url, "--cache-dir", str(tmp_path / "b"), "--quiet"])
        assert code == 0 and f"fetch {info.release}:" not in out and "all SHA-256 verified" in out, out


def test_no_hand_written_progress_display_is_left():
    """One helper over tqdm; the old Progress class and its [i/n] step lines are gone."""
    package = ROOT / "conflictstats"
    assert not (package / "report" / "progress.py").exists()
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "\\r\\x1b[K" not in text and "class Progress" not in text, path
