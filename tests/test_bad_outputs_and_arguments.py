"""The bad-input corpus, second round: what goes out, not what comes in (issue #18).

Spreadsheet formula injection (``f*``: exported text a spreadsheet would run), control and bidi
characters echoed in messages (``e*``, ``n03``/``n04``), output folders the disk refuses or that
hold a user's files (``w*``), function arguments out of range (``a*``, ``x01``) and concurrent
writers of one folder (``k*``). Cases and expected exit codes are in tests/data/bad/MANIFEST.tsv;
the CLI runs in-process (cli.main) except where processes are the point (read-only folders as
an unprivileged user, concurrent writers).
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import csv
import io
import json
import math
import os
import shlex
import shutil
import stat
import subprocess
import sys
import tomllib
import unicodedata
from pathlib import Path

import pytest

import conflictstats as cs
from conflictstats import cli, models
from conflictstats.errors import ConflictstatsError
from conflictstats.export import FORMULA_LEADS
from conflictstats.manifest import SUMS_FILE, read_sums, sha256_file
from conflictstats.registry import DATASETS_ENV
from conftest import ROOT, VALID
from test_bad_inputs import BAD, Case, _of, built  # noqa: F401 (a fixture)
from tomlfixtures import NAME, write_dataset

UNSAFE = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"}


def run(argv: list[str]) -> tuple[int, str]:
    """The CLI in this process, argparse's own exits included."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(argv)
        except SystemExit as exc:
            rc = exc.code
    return rc, out.getvalue() + err.getvalue()


def assert_terminal_safe(text: str) -> None:
    raw = [f"U+{ord(ch):04X}" for ch in text if ch != "\n" and unicodedata.category(ch) in UNSAFE]
    assert not raw, f"raw control/bidi characters {raw} in:\n{text!r}"


def small_dataset(base: Path) -> Path:
    """A valid small curated dataset in a datasets root under ``base``; returns the root."""
    root = base / "datasets"
    write_dataset(root, copy.deepcopy(VALID))
    return root


def folder_is_one_output(out: Path) -> None:
    """Every file of ``out`` is listed in its SHA256SUMS with its hash, and nothing else is there."""
    sums = read_sums(out)
    present = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()} - {SUMS_FILE}
    assert present == set(sums), f"files {sorted(present)} but SHA256SUMS lists {sorted(sums)}"
    for name, digest in sums.items():
        assert sha256_file(out / name) == digest, f"{name} does not match SHA256SUMS"
    assert not [p.name for p in out.parent.iterdir() if p.name.startswith(".conflictstats-")], \
        "a staging folder was left beside the output"


# --- formula injection: exported text stays text ----------------------------------------------

def _formula_texts(case: Case) -> list[str]:
    """Every string of the case file a spreadsheet would run as a formula."""
    data = tomllib.loads((BAD / case.file).read_text(encoding="utf-8"))
    rows = [data["source"], *data.get("figures", []), *data.get("events", [])]
    return [v for row in rows for v in row.values() if isinstance(v, str) and v.startswith(FORMULA_LEADS)]


@pytest.mark.parametrize("case", _of("formula"), ids=str)
def test_bad_formula_text_is_exported_as_text(case, tmp_path, monkeypatch):
    import openpyxl

    from conflictstats.build import build

    root = small_dataset(tmp_path)
    shutil.copy(BAD / case.file, root / NAME / "sources")
    monkeypatch.setenv(DATASETS_ENV, str(root))
    build(NAME)
    texts = _formula_texts(case)
    assert texts, "the case holds no formula-leading text"
    # XLSX: no cell is a formula; every formula-leading text is a text cell with the text as published
    assert run(["export", "--format", "xlsx", "--out", str(tmp_path / "x")])[0] == 0
    book = openpyxl.load_workbook(next((tmp_path / "x").glob("*.xlsx")))
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a cell was written as a formula"
    # (XML reads a carriage return back as a line feed: a text cell either way)
    leading = [c for c in cells if isinstance(c.value, str) and c.value.startswith((*FORMULA_LEADS, "\n"))]
    assert leading and all(c.data_type == "s" for c in leading)
    values = {c.value.replace("\n", "\r") for c in cells if isinstance(c.value, str)}
    numbers = [c for c in cells if c.data_type == "n" and isinstance(c.value, (int, float))]
    assert numbers, "numbers must stay numeric cells"
    for t in texts:
        assert t in values or t.strip() in values, f"{t!r} did not come back as text"
    # CSV: the OWASP rule, a leading apostrophe; nothing else starts with a formula character
    assert run(["export", "--format", "csv", "--out", str(tmp_path / "c")])[0] == 0
    csv_cells = []
    for f in (tmp_path / "c").glob("*.csv"):
        with open(f, newline="", encoding="utf-8") as fh:
            csv_cells += [v for row in csv.reader(fh) for v in row]
    assert not [v for v in csv_cells if v.startswith(FORMULA_LEADS)]
    for t in (t.replace("\r\n", "\n").replace("\r", "\n") for t in texts):  # CSV line breaks are LF
        assert "'" + t in csv_cells or "'" + t.strip() in csv_cells or t.strip() in csv_cells, t
    assert "apostrophe" in (tmp_path / "c" / "README.md").read_text(encoding="utf-8")
    for table in ("figures", "sources"):  # `show --format csv` writes CSV too
        rc, text = run(["show", table, "--format", "csv"])
        assert rc == 0 and not [v for row in csv.reader(io.StringIO(text)) for v in row if v.startswith(FORMULA_LEADS)]


def test_bad_negative_numbers_stay_numbers():
    """Only text is escaped: a negative number is a number cell, in XLSX and CSV."""
    import openpyxl

    from conflictstats.export import append_row, csv_text

    wb = openpyxl.Workbook()
    append_row(wb.active, [-5, -2.5, "-5", "=1+1", "@A1", "plain"])
    assert [c.data_type for c in wb.active[1]] == ["n", "n", "s", "s", "s", "s"]
    assert [csv_text(v) for v in (-5, -2.5, "-5", "\t=1", "\r=1", "ok\r=2")] == [-5, -2.5, "'-5", "'\t=1", "'\n=1",
                                                                                "ok\n=2"]


# --- terminal safety: echoed values are escaped -------------------------------------------------

def _decoded_names(case: Case) -> list[str]:
    lines = (BAD / case.file).read_text(encoding="ascii").splitlines()
    return [codecs.decode(ln, "unicode_escape") for ln in lines if ln and not ln.startswith("#")]


@pytest.mark.parametrize("case", _of("terminal-names"), ids=str)
def test_bad_names_are_echoed_escaped(case, tmp_path):
    names = _decoded_names(case)
    assert len(names) >= 5 and all(any(unicodedata.category(ch) in UNSAFE for ch in n) for n in names)
    for name in names:
        for argv in (["show", name], ["show", "figures", f"--dataset={name}"], ["cite", f"--dataset={name}"],
                     ["show", "figures", f"--metric={name}"], ["backtest", f"--metric={name}"],
                     ["export", f"--format={name}", "--out", str(tmp_path / "x")],
                     ["validate", str(tmp_path / f"{name}.csv")]):
            rc, text = run(argv)
            assert rc in (2, 3), (argv, rc, text)
            assert "Traceback" not in text and "internal error" not in text, text
            assert_terminal_safe(text)
            assert "\\" in text, f"the value is not shown escaped:\n{text}"
        for call in (lambda: cs.load(name), lambda: cs.load("figures", dataset=name)):
            with pytest.raises(ConflictstatsError) as exc:
                call()
            assert exc.value.exit_code == case.load
            assert_terminal_safe(str(exc.value))
    assert not (tmp_path / "x").exists()


def test_bad_terminal_safe_keeps_text_readable():
    from conflictstats.errors import UnknownNameError, terminal_safe

    assert terminal_safe("Idlib – إدلب, 50 000\nline two") == "Idlib – إدلب, 50 000\nline two"
    assert terminal_safe("a\u202eb\x1b[31mc\x9bd\ufeff") == "a\\u202eb\\x1b[31mc\\x9bd\\ufeff"
    assert terminal_safe(terminal_safe("x\u2066y")) == "x\\u2066y"
    assert str(UnknownNameError("unknown 'a\u202eb'")) == "unknown 'a\\u202eb'"


# --- output folders the disk refuses or a user owns -----------------------------------------------

def _scenario(case: Case) -> str:
    lines = [ln for ln in (BAD / case.file).read_text(encoding="utf-8").splitlines() if ln.startswith("scenario:")]
    return lines[0].split(":", 1)[1].strip()


_IN_ONE_PROCESS = """
import contextlib, io, json, sys
from conflictstats import cli
results = []
for argv in json.loads(sys.argv[1]):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        rc = cli.main(argv)
    results.append([rc, buf.getvalue()])
print(json.dumps(results))
"""


def _run_bound_by_permissions(argvs: list[list[str]]) -> list[tuple[int, str]]:
    """The CLI (cli.main, once per argv) in one subprocess that file permissions bind: as root,
    who may write anywhere, without the capabilities that override them (setpriv, util-linux)."""
    prefix = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv: a read-only folder cannot be made")
        caps = "-dac_override,-dac_read_search,-fowner"
        prefix = ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}"]
    proc = subprocess.run([*prefix, sys.executable, "-c", _IN_ONE_PROCESS, json.dumps(argvs)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [tuple(r) for r in json.loads(proc.stdout)]


@pytest.fixture
def small_built(built, tmp_path, monkeypatch):
    """The small dataset, built, as the default dataset of this process and its children."""
    root = tmp_path / "datasets"
    shutil.copytree(built, root)
    monkeypatch.setenv(DATASETS_ENV, str(root))
    return root


@pytest.fixture
def open_base(tmp_path, small_built):
    """A folder for the case; made writable again afterwards, so that pytest can remove it."""
    yield tmp_path
    for p in [tmp_path, *tmp_path.rglob("*")]:
        with contextlib.suppress(OSError):
            p.chmod(0o755 if p.is_dir() else 0o644)


@pytest.mark.parametrize("case", _of("out"), ids=str)
def test_bad_output_folder(case, open_base):
    scenario = _scenario(case)
    user_file = open_base / "user" / case.file
    user_file.parent.mkdir()
    shutil.copy(BAD / case.file, user_file)
    writers = ("csv", "xlsx", "parquet", "build")
    if scenario in ("is-a-file", "below-a-file", "foreign-files"):
        out = {"is-a-file": user_file, "below-a-file": user_file / "out", "foreign-files": user_file.parent}[scenario]
        outs = {w: out for w in writers if not (scenario == "foreign-files" and w == "build")}
    else:  # build writes into a dataset folder beside its curated files by design: not foreign-files
        ro = open_base / "ro"
        ro.mkdir()
        outs = {w: ro / w for w in writers}
        if scenario == "read-only-export":  # an earlier output of another format, so a write is needed
            for w, earlier in {"csv": "xlsx", "xlsx": "csv", "parquet": "csv", "build": "csv"}.items():
                assert run(["export", "--format", earlier, "--out", str(outs[w])])[0] == 0
        for p in [ro, *ro.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
    snapshot = {p: p.read_bytes() for p in open_base.rglob("*") if p.is_file() and "datasets" not in p.parts}
    argvs = [["build", "--out", str(out)] if w == "build" else ["export", "--format", w, "--out", str(out)]
             for w, out in outs.items()]
    results = _run_bound_by_permissions(argvs) if scenario.startswith("read-only") else [run(a) for a in argvs]
    for argv, (rc, text) in zip(argvs, results):
        assert rc == case.build, f"{case.file} {argv}: exit {rc}\n{text}"
        assert "Traceback" not in text and "internal error" not in text
        for e in case.expect:
            assert e in text, f"{case.file}: expected {e!r} in:\n{text}"
        assert Path(argv[-1]).name in text, f"the message does not name the folder:\n{text}"
    after = {p: p.read_bytes() for p in open_base.rglob("*") if p.is_file() and "datasets" not in p.parts}
    assert after == snapshot, "a refused write changed files"


def test_bad_report_output_below_a_file(tmp_path):
    """The report's writer is the same: an --out it cannot make is exit 2 naming it (a preview
    without models, for speed)."""
    from conflictstats.errors import UnreadableError
    from conflictstats.report import build_report

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(UnreadableError, match="cannot write here") as exc:
        build_report(out_dir=blocker / "report", progress=False, models=False)
    assert exc.value.exit_code == 2 and "a-file" in str(exc.value)
    assert blocker.read_text() == "not a folder"


def test_bad_export_over_an_earlier_export_replaces_it_whole(tmp_path, small_built):
    """An export into an earlier export's folder leaves only the new export (no stale CSVs)."""
    out = tmp_path / "out"
    for fmt in ("csv", "xlsx"):
        assert run(["export", "--format", fmt, "--out", str(out)])[0] == 0
    assert not list(out.glob("*.csv")) and not (out / "datapackage.json").exists()
    folder_is_one_output(out)


# --- concurrent writers ----------------------------------------------------------------------------

@pytest.mark.parametrize("case", _of("concurrent"), ids=str)
def test_bad_concurrent_writers_leave_one_folder(case, tmp_path, small_built):
    """Real processes started together (the small dataset, so that they overlap)."""
    words = [ln for ln in (BAD / case.file).read_text(encoding="utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")][0].split()
    assert len(words) >= 4
    env = dict(os.environ)
    out = tmp_path / "shared" / "out"
    out.parent.mkdir()
    cmds = [["build", "--out", str(out)] if w == "build" else ["export", "--format", w, "--out", str(out)]
            for w in words]
    procs = [subprocess.Popen([sys.executable, "-m", "conflictstats", *c], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for c in cmds]
    results = [(p.args, *p.communicate(timeout=600), p.returncode) for p in procs]
    for args, so, se, rc in results:
        assert rc == case.build, f"{args}: exit {rc}\n{so}{se}"
        assert "Traceback" not in se
    folder_is_one_output(out)
    if words[0] != "build":  # README, data files and datapackage.json describe one format
        readme = (out / "README.md").read_text(encoding="utf-8")
        fmt = next(w for w in set(words) if f"exported by conflictstats as {w}." in readme)
        data = {p.suffix for p in out.iterdir() if p.name not in ("README.md", SUMS_FILE, "datapackage.json",
                                                                   "release.json")}
        assert data == {f".{fmt}"}, (fmt, data)
        assert (out / "datapackage.json").exists() == (fmt != "xlsx")


# --- function arguments -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def synthetic_fit():
    figures, events, _ = models.synthetic_campaign(7)
    return models.fit("civilians_killed", figures=figures, events=events, reference="Monitor A")


def _decode(value, res):
    if value == "NaN":
        return math.nan
    if value == "NaT":
        import pandas as pd

        return pd.NaT
    if value == "PARAMS":
        return res.params.to_frame().T
    if isinstance(value, list):
        return [_decode(v, res) for v in value]
    if isinstance(value, dict):
        return {k: _decode(v, res) for k, v in value.items()}
    return value


@pytest.mark.parametrize("case", _of("api"), ids=str)
def test_bad_api_arguments(case, synthetic_fit):
    lines = [ln for ln in (BAD / case.file).read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    assert lines
    for line in lines:
        target, args, kwargs = line.split("\t")
        scope, name = target.split(".")
        fn = getattr(synthetic_fit if scope == "result" else cs if name == "compare" else models, name)
        with pytest.raises(ConflictstatsError) as exc:
            fn(*_decode(json.loads(args), synthetic_fit), **_decode(json.loads(kwargs), synthetic_fit))
        err = exc.value
        assert err.exit_code == case.load and isinstance(err, (ValueError, KeyError)), (line, type(err), err)
        for e in case.expect:
            assert e in str(err), f"{line}: expected {e!r} in {err}"


@pytest.mark.parametrize("case", _of("cli"), ids=str)
def test_bad_cli_model_options(case):
    lines = [ln for ln in (BAD / case.file).read_text(encoding="utf-8").splitlines() if ln and not ln.startswith("#")]
    for line in lines:
        rc, text = run(shlex.split(line))
        assert rc == case.load, f"{line}: exit {rc}\n{text}"
        assert "Traceback" not in text and "internal error" not in text and text.strip(), text


def test_bad_corpus_round2_is_counted():
    """Issue #18: every class of this round is in the corpus."""
    kinds = {"formula", "terminal-names", "out", "api", "cli", "concurrent"}
    assert {c.kind for c in _of(*kinds)} == kinds
    assert len(_of(*kinds)) + len([c for c in _of("csv", "source") if c.file.startswith("e")]) >= 30
    assert stat.S_ISREG((BAD / "MANIFEST.tsv").stat().st_mode)
