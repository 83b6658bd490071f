"""The bad-input corpus (tests/data/bad, described in its MANIFEST.tsv) through every entry point.

Each file goes to `validate`, `build` and `check` (curated TOML, in a temporary dataset) or to
`validate` and `load` (CSV and Parquet), and must give the documented exit code and a clear
message naming the file, the column, the rule and the value, never a traceback and never a
partial output. The CLI runs in-process (cli.main, the real argument parsing and error handling)
for speed; a few cases also run as real subprocesses.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import conflictstats as cs
from conflictstats import cli
from conflictstats.errors import IntegrityError, UnknownNameError, UnreadableError
from conflictstats.registry import DATASETS_ENV
from conflictstats.manifest import MAX_READ_BYTES, SUMS_FILE, read_sums, sha256_file, write_sums
from conftest import VALID, run_cli
from tomlfixtures import NAME, write_dataset

BAD = Path(__file__).resolve().parent / "data" / "bad"
NOT_CASES = {"MANIFEST.tsv", "README.md", "make_binary.py"}
SUCCEEDING_KINDS = {"formula", "concurrent"}  # tests/test_bad_outputs_and_arguments.py


@dataclass(frozen=True)
class Case:
    file: str
    kind: str
    validate: int | None
    build: int | None
    load: int | None
    expect: tuple[str, ...]
    reason: str

    def __str__(self) -> str:
        return self.file


def _code(text: str) -> int | None:
    return None if text == "-" else int(text)


def _manifest() -> list[Case]:
    cases = []
    for line in (BAD / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        file, kind, v, b, ld, expect, reason = line.split("\t")
        cases.append(Case(file, kind, _code(v), _code(b), _code(ld),
                          tuple(e for e in expect.split("|") if e != "-"), reason))
    return cases


CASES = _manifest()


def _of(*kinds: str) -> list[Case]:
    return [c for c in CASES if c.kind in kinds]


def run(argv: list[str]) -> tuple[int, str]:
    """The CLI in this process; any exception other than the CLI's own handling fails the test."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = cli.main(argv)
    return rc, out.getvalue() + err.getvalue()


def assert_clear(rc: int, text: str, case: Case, code: int, name_in_text: str | None = None) -> None:
    assert rc == code, f"{case.file} ({case.reason}): exit {rc}, expected {code}\n{text}"
    assert "Traceback" not in text and text.strip(), text
    for e in case.expect:
        assert e in text, f"{case.file}: expected {e!r} in the message:\n{text}"
    if name_in_text:
        assert name_in_text in text, f"{case.file}: the message does not name the file:\n{text}"


# --- the corpus itself -------------------------------------------------------------------------

def test_bad_corpus_is_documented():
    listed = [c.file for c in CASES]
    on_disk = sorted(p.name for p in BAD.iterdir() if p.name not in NOT_CASES)
    assert sorted(listed) == on_disk, "every corpus file is listed in MANIFEST.tsv exactly once"
    assert len(listed) >= 30
    # formula and concurrent cases must succeed (exit 0): their checks are on what is written
    assert all(c.reason.strip() and (c.validate or c.build or c.load or c.kind in SUCCEEDING_KINDS) for c in CASES)


# --- curated TOML: validate, build, check ------------------------------------------------------

@pytest.fixture
def dataset_root(tmp_path, monkeypatch):
    """A valid small curated dataset in a temporary datasets root the CLI reads."""
    root = tmp_path / "datasets"
    write_dataset(root, copy.deepcopy(VALID))
    monkeypatch.setenv(DATASETS_ENV, str(root))
    return root / NAME


def test_bad_baseline_is_valid(dataset_root, tmp_path):
    """Without a bad file the temporary dataset builds: every failure below is the bad file's."""
    rc, text = run(["build", "--out", str(tmp_path / "out")])
    assert rc == 0, text
    assert (tmp_path / "out" / "figures.parquet").is_file()


@pytest.mark.parametrize("case", _of("source", "dataset", "originators"), ids=str)
def test_bad_curated_file(case, dataset_root, tmp_path):
    target = {"source": Path("sources") / case.file, "dataset": Path("dataset.toml"),
              "originators": Path("..") / "originators.toml"}[case.kind]
    shutil.copy(BAD / case.file, dataset_root / target)
    named = case.file if case.kind == "source" else target.name
    out = tmp_path / "out"
    rc, text = run(["build", "--out", str(out)])
    assert_clear(rc, text, case, case.build, named)
    assert not out.exists(), "a failed build must write nothing"
    rc, text = run(["validate", str(dataset_root)])
    assert_clear(rc, text, case, case.validate, named)
    rc, text = run(["check"])
    assert_clear(rc, text, case, case.build, named)


def test_bad_build_keeps_previous_output(dataset_root, tmp_path):
    """A bad edit after a good build leaves the good files exactly as they were."""
    out = tmp_path / "out"
    assert run(["build", "--out", str(out)])[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    shutil.copy(BAD / "t02_value_negative.toml", dataset_root / "sources")
    rc, text = run(["build", "--out", str(out)])
    assert rc == 1 and "[non_negative]" in text
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


# --- user files: CSV and Parquet through validate ----------------------------------------------

def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: (";".join(v) if isinstance(v, list) else ("" if v is None else v)) for k, v in r.items()})


@pytest.fixture
def beside(tmp_path):
    """A folder with valid sources.csv and codebook.csv, the context of a figures file put in it."""
    folder = tmp_path / "user"
    folder.mkdir()
    _write_csv(folder / "sources.csv", VALID["sources"])
    _write_csv(folder / "codebook.csv", VALID["codebook"])
    return folder


@pytest.mark.parametrize("case", _of("csv", "parquet"), ids=str)
def test_bad_user_file_validate(case, beside):
    path = beside / case.file
    shutil.copy(BAD / case.file, path)
    rc, text = run(["validate", str(path), "--table", "figures"])
    assert_clear(rc, text, case, case.validate, case.file)


def test_bad_csv_good_twin_is_valid(beside):
    """The same figures written correctly pass, so each CSV case fails for its own reason."""
    _write_csv(beside / "figures.csv", VALID["figures"])
    rc, text = run(["validate", str(beside / "figures.csv")])
    assert rc == 0, text


# --- shipped-style folders: load ---------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A built copy of the small dataset: Parquet files and SHA256SUMS, as load() reads them."""
    from tomlfixtures import datasets_root

    root = tmp_path_factory.mktemp("built") / "datasets"
    write_dataset(root, copy.deepcopy(VALID))
    with datasets_root(root):
        from conflictstats.build import build

        build(NAME)
    return root


@pytest.fixture
def loadable(built, tmp_path, monkeypatch):
    root = tmp_path / "datasets"
    shutil.copytree(built, root)
    monkeypatch.setenv(DATASETS_ENV, str(root))
    assert len(cs.load("figures")) == len(VALID["figures"])
    return root / NAME


@pytest.mark.parametrize("case", _of("parquet"), ids=str)
def test_bad_parquet_load(case, loadable):
    target = loadable / "figures.parquet"
    shutil.copy(BAD / case.file, target)
    # As shipped: the checksum no longer matches, so nothing is parsed at all.
    with pytest.raises(IntegrityError, match="SHA-256 mismatch"):
        cs.load("figures")
    rc, text = run(["show", "figures"])
    assert rc == 4 and "Traceback" not in text
    # Checksum updated too (a forged release): parsing must still refuse it, with a clear reason.
    sums = read_sums(loadable)
    sums["figures.parquet"] = sha256_file(target)
    write_sums(loadable, sums)
    with pytest.raises(UnreadableError) as exc:
        cs.load("figures")
    assert exc.value.exit_code == case.load
    assert "figures.parquet" in str(exc.value)
    for e in case.expect:
        assert e in str(exc.value), str(exc.value)
    rc, text = run(["show", "figures"])
    assert rc == case.load and "Traceback" not in text


@pytest.mark.parametrize("case", _of("sums"), ids=str)
def test_bad_checksum_manifest(case, loadable):
    shutil.copy(BAD / case.file, loadable / SUMS_FILE)
    with pytest.raises(IntegrityError) as exc:
        cs.load("figures")
    assert exc.value.exit_code == case.load and case.expect[0] in str(exc.value)
    rc, text = run(["show", "figures"])
    assert rc == case.load and "Traceback" not in text


# --- names -------------------------------------------------------------------------------------

def _names(case: Case) -> list[str]:
    lines = (BAD / case.file).read_text(encoding="utf-8").splitlines()
    return [ln.replace("%00", "\x00") for ln in lines if ln and not ln.startswith("#")]


@pytest.mark.parametrize("case", _of("dataset-names"), ids=str)
def test_bad_dataset_names(case, tmp_path):
    names = _names(case)
    assert len(names) >= 5
    for name in names:
        with pytest.raises(UnknownNameError):
            cs.load("figures", dataset=name)
        opt = f"--dataset={name}"  # the = form, so that a name such as '-idlib' stays a value
        for argv in (["show", "figures", opt], ["check", opt], ["build", opt, "--out", str(tmp_path / "out")],
                     ["validate", str(tmp_path), opt], ["cite", opt]):
            rc, text = run(argv)
            assert rc == case.build, (name, argv, text)
            assert "Traceback" not in text and "dataset" in text
    assert not (tmp_path / "out").exists()


def test_bad_usage_exits_3_not_2():
    """argparse's own errors would exit 2, which here means unreadable input."""
    for argv in (["build", "--bogus"], ["show"], ["nonsense-command"], ["show", "figures", "--format", "xml"]):
        with contextlib.redirect_stderr(io.StringIO()) as err, pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 3, (argv, err.getvalue())
        assert "usage:" in err.getvalue()


@pytest.mark.parametrize("case", _of("table-names"), ids=str)
def test_bad_table_names(case):
    for name in _names(case):
        with pytest.raises(UnknownNameError, match="unknown table"):
            cs.load(name)
        rc, text = run(["show", name])
        assert rc == case.load and case.expect[0] in text, (name, text)


# --- a very large file -------------------------------------------------------------------------

def test_bad_very_large_file_is_refused_unread(tmp_path, loadable):
    """A file over the size limit is refused from its size alone (sparse: no disk, no memory)."""
    for name in ("figures.csv", "figures.parquet"):
        big = tmp_path / name
        with open(big, "wb") as fh:
            fh.truncate(MAX_READ_BYTES + 1)
        rc, text = run(["validate", str(big)])
        assert rc == 2 and "larger than" in text and name in text, text
    with open(loadable / "figures.parquet", "wb") as fh:
        fh.truncate(MAX_READ_BYTES + 1)
    with pytest.raises(UnreadableError, match="larger than"):
        cs.load("figures")


# --- the real CLI in subprocesses: one case per exit code --------------------------------------

def test_bad_inputs_in_real_processes(tmp_path, built):
    root = tmp_path / "datasets"
    shutil.copytree(built, root)
    env = {DATASETS_ENV: str(root)}
    shutil.copy(BAD / "t02_value_negative.toml", root / NAME / "sources")
    proc = run_cli("build", "--out", str(tmp_path / "out"), env=env)
    assert proc.returncode == 1 and "[non_negative]" in proc.stderr and "t02_value_negative.toml" in proc.stderr
    (root / NAME / "sources" / "t02_value_negative.toml").unlink()
    proc = run_cli("validate", str(BAD / "c01_semicolon_delimited.csv"), env=env)
    assert proc.returncode == 2 and "separated" in proc.stderr
    proc = run_cli("show", "figures", "--dataset", "../idlib-2019", env=env)
    assert proc.returncode == 3 and "not a valid dataset name" in proc.stderr
    shutil.copy(BAD / "p03_flipped_byte_data.parquet", root / NAME / "figures.parquet")
    proc = run_cli("show", "figures", env=env)
    assert proc.returncode == 4 and "SHA-256 mismatch" in proc.stderr
    for p in (proc,):
        assert "Traceback" not in p.stderr
    assert not (tmp_path / "out").exists()


# --- nothing on a data path executes what it reads ---------------------------------------------

def test_bad_code_paths_absent():
    """No pickle/marshal/shelve, no eval/exec/compile/__import__; import_module only from the fixed
    package's lazy attributes; cli.HANDLERS holds functions; pyarrow at or above 14.0.1 (CVE-2023-47248)."""
    import ast
    import re

    pkg = Path(cs.__file__).resolve().parent
    for path in sorted(pkg.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        rel = path.relative_to(pkg).as_posix()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not {m.split(".")[0] for m in mods} & {"pickle", "marshal", "shelve", "dill", "cloudpickle"}, rel
            if isinstance(node, ast.Call):
                fn = node.func
                name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
                assert name not in {"eval", "exec", "compile"} or isinstance(fn, ast.Attribute) and \
                    name == "compile" and getattr(fn.value, "id", "") == "re", f"{rel}:{node.lineno} calls {name}"
                literal = bool(node.args) and isinstance(node.args[0], ast.Constant)
                if name == "__import__":  # a fixed module name is a plain import written oddly
                    assert literal, f"{rel}:{node.lineno} imports a module named at run time"
                if name == "import_module":
                    assert literal or rel in {"cli.py", "__init__.py"}, f"{rel}:{node.lineno} imports a module by name"
    assert all(callable(h) for h in cli.HANDLERS.values())
    floor = re.search(r'"pyarrow>=([0-9.]+)"', (Path(cs.__file__).resolve().parent.parent / "pyproject.toml").read_text())
    assert floor and tuple(int(x) for x in floor.group(1).split(".")) >= (14, 0, 1)
