"""Hypothesis properties: round trips, corruptions caught by the schemas, damaged Parquet bytes.

1. Random valid tables written as curated TOML go through the real `build` and `load` unchanged.
2. A random corruption of a random valid table is always reported by the schemas, by its rule.
3. A Parquet file with random bytes changed never crashes the interpreter and never yields wrong
   data: load() refuses it (SHA-256), and even with a forged checksum the reader refuses it or
   returns the original data (page CRCs, schema and metadata checks).

Each suite runs 200 examples (deadline off: the machine is shared) and takes well under a minute.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conflictstats import datamodel as c
from conflictstats.api import read_table_file
from conflictstats.userfiles import as_raw
from conflictstats.errors import IntegrityError, UnreadableError
from conflictstats.manifest import read_sums, sha256_bytes
from conflictstats.store import parquet_bytes
from conflictstats.validation import check_tables
from conftest import COVERAGE, ROOT, VALID
from conflictstats.curated import raw_tables as frames
from tomlfixtures import NAME, datasets_root, write_dataset

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TODAY = dt.date(2026, 11, 25)
LO, HI = COVERAGE

# --- strategies for valid tables ----------------------------------------------------------------

# Any text a curator could type, including control characters, quotes, and non-Latin scripts
# (surrogates cannot be written as UTF-8, so no file can hold them).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30).filter(lambda s: s.strip())
OPT_TEXT = st.none() | TEXT
SLUG = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,24}", fullmatch=True)
DATES = st.dates(min_value=LO, max_value=HI)


@st.composite
def valid_raw(draw) -> dict:
    """Random tables that satisfy every rule of the contract (raw form, as in conftest.VALID)."""
    metrics = draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True), min_size=1, max_size=3,
                            unique=True))
    codebook = [{"metric": m, "label": draw(TEXT), "unit": draw(st.sampled_from(c.UNITS)),
                 "definition": "Definition: " + draw(TEXT), "hxl": draw(st.from_regex(r"#[a-z_]{1,8}(\+[a-z_]{1,8}){0,2}", fullmatch=True)),
                 "notes": draw(OPT_TEXT)} for m in metrics]
    ids = draw(st.lists(SLUG, min_size=1, max_size=3, unique=True))
    sources = []
    for sid in ids:
        published = draw(DATES)
        sources.append({
            "source_id": sid, "title": draw(TEXT), "publisher": draw(TEXT),
            "publisher_type": draw(st.sampled_from(c.PUBLISHER_TYPES)),
            "doc_type": draw(st.sampled_from(c.DOC_TYPES)), "published": published,
            "url": draw(st.sampled_from(["https://", "http://"])) + "example.org/" + sid,
            "language": draw(st.from_regex(r"[a-z]{2}", fullmatch=True)),
            "accessed": draw(st.dates(min_value=published, max_value=TODAY)), "notes": draw(OPT_TEXT)})
    figures = []
    for i in range(draw(st.integers(0, 5))):
        src = draw(st.sampled_from(sources))
        last = min(HI, src["published"] + dt.timedelta(days=c.PUBLICATION_GRACE_DAYS))
        end = draw(st.dates(min_value=LO, max_value=last))
        count_type = draw(st.sampled_from(c.COUNT_TYPES))
        start = draw(st.none() | st.dates(min_value=LO, max_value=end))
        if count_type == "incident" and start is not None:
            start = end
        qualifier = draw(st.sampled_from(c.QUALIFIERS))
        value = draw(st.integers(0, 10**12))
        low = high = None
        if qualifier == "range":
            low, high = draw(st.integers(0, value)), draw(st.integers(value, 10**13))
        figures.append({
            "figure_id": f"{src['source_id']}-f{i:02d}", "source_id": src["source_id"],
            "metric": draw(st.sampled_from(metrics)), "value": value, "qualifier": qualifier,
            "value_low": low, "value_high": high, "count_type": count_type,
            "period_start": start, "period_end": end,
            "date_precision": draw(st.sampled_from(c.DATE_PRECISIONS)),
            "area": draw(TEXT) + f" #{i}",  # no two figures alike (the duplicate rule)
            "area_scope": draw(st.sampled_from(c.AREA_SCOPES)),
            "admin1_pcodes": draw(st.lists(st.sampled_from(sorted(c.ADMIN1_PCODES)), min_size=1, max_size=3)),
            "originator": draw(TEXT), "originator_type": draw(st.sampled_from(c.ORIGINATOR_TYPES)),
            "perpetrator": draw(OPT_TEXT), "verification": draw(st.sampled_from(c.VERIFICATIONS)),
            "locator": draw(OPT_TEXT), "paraphrase": "Paraphrase: " + draw(TEXT), "notes": draw(OPT_TEXT)})
    events = []
    for i in range(draw(st.integers(0, 3))):
        date = draw(DATES)
        events.append({
            "event_id": f"event-{i}", "date": date, "date_end": draw(st.none() | st.dates(date, HI)),
            "kind": draw(st.sampled_from(c.EVENT_KINDS)), "place": draw(TEXT),
            "description": "Description: " + draw(TEXT), "source_id": draw(st.sampled_from(ids))})
    return {"codebook": codebook, "sources": sources, "figures": figures, "events": events}


def _expected(raw: dict, table: str) -> list[dict]:
    """The rows as load() should return them: build sorts by the table's key (the codebook keeps
    its order) and adds each figure's group from the originator registry."""
    from conflictstats.registry import originator_groups

    rows = [dict(r) for r in raw[table]]
    if table == "figures":
        groups = originator_groups()
        for r in rows:
            r["originator_group"] = groups.get(r["originator"])
    if table != "codebook":
        rows.sort(key=lambda r: r[c.PRIMARY_KEYS[table]])
    return [{col: r.get(col) for col in c.COLUMNS[table]} for r in rows]


# --- 1. round trip ------------------------------------------------------------------------------

@SETTINGS
@given(raw=valid_raw())
def test_valid_tables_round_trip_through_build_and_load(raw):
    from conflictstats.build import build

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "datasets"
        write_dataset(root, raw)
        with datasets_root(root):
            result = build(NAME, Path(tmp) / "out", today=TODAY)
            expected = {table: _expected(raw, table) for table in c.TABLES}
        sums = read_sums(result.out_dir)
        for table in c.TABLES:
            df = read_table_file(result.out_dir / f"{table}.parquet", table, sums[f"{table}.parquet"])
            assert as_raw(df).to_dict("records") == expected[table], table


# --- 2. corruptions are caught ------------------------------------------------------------------

CORRUPTIONS = {
    # name: (table, column, rule, how to break a row)
    "negative_value": ("figures", "value", "non_negative", lambda r, d: r.update(value=-d.draw(st.integers(1, 10**9)))),
    "value_text": ("figures", "value", "type", lambda r, d: r.update(value=d.draw(st.sampled_from(["12.5", "many", "1e3", "", "ten"])))),
    "value_float": ("figures", "value", "type", lambda r, d: r.update(value=d.draw(st.floats(0.01, 1e6).filter(lambda x: not x.is_integer())))),
    "unknown_metric": ("figures", "metric", "known_metric", lambda r, d: r.update(metric="zz_not_a_metric")),
    "unknown_qualifier": ("figures", "qualifier", "allowed_values", lambda r, d: r.update(qualifier=d.draw(TEXT.filter(lambda s: s not in c.QUALIFIERS and s.strip() == s)))),
    "end_before_start": ("figures", "period_start", "start_not_after_end",
                         lambda r, d: r.update(count_type="flow", period_start=r["period_end"] + dt.timedelta(days=d.draw(st.integers(1, 30))))),
    "outside_coverage": ("figures", "period_end", "inside_coverage", lambda r, d: r.update(period_start=None, period_end=LO - dt.timedelta(days=d.draw(st.integers(1, 999))))),
    "after_publication": ("figures", "period_end", "not_after_publication", lambda r, d: None),  # set below
    "missing_source": ("figures", "source_id", "source_exists", lambda r, d: r.update(source_id="zz-no-such-document")),
    "bad_pcode": ("figures", "admin1_pcodes", "known_admin1_pcodes", lambda r, d: r.update(admin1_pcodes=["SY99"])),
    "required_missing": ("figures", "originator", "required", lambda r, d: r.update(originator=d.draw(st.sampled_from([None, "", "   "])))),
    "bad_url": ("sources", "url", "format", lambda r, d: r.update(url=d.draw(st.sampled_from(["ftp://x.org/a", "javascript:alert(1)", "example.org", "file:///etc/passwd", "https://"])))),
    "future_published": ("sources", "published", "not_in_future", lambda r, d: r.update(published=TODAY + dt.timedelta(days=d.draw(st.integers(1, 9999))), accessed=TODAY + dt.timedelta(days=10000))),
    "bad_date": ("sources", "published", "type", lambda r, d: r.update(published=d.draw(st.sampled_from(["2019-13-01", "31/05/2019", "May 2019", "2019-02-30"])))),
    "duplicate_source": ("sources", "source_id", "unique", None),  # handled below
    "bad_kind": ("events", "kind", "allowed_values", lambda r, d: r.update(kind="zz_battle")),
    "event_end_before": ("events", "date_end", "event_end_not_before_start", lambda r, d: r.update(date_end=r["date"] - dt.timedelta(days=d.draw(st.integers(1, 30))))),
}


@SETTINGS
@given(raw=valid_raw(), name=st.sampled_from(sorted(CORRUPTIONS)), data=st.data())
def test_random_corruptions_are_caught(raw, name, data):
    table, column, rule, breaker = CORRUPTIONS[name]  # (the round trip shows valid_raw() is valid)
    if table == "figures" and not raw["figures"]:
        raw["figures"] = copy.deepcopy(VALID["figures"][:1])
        raw["figures"][0]["source_id"] = raw["sources"][0]["source_id"]
        raw["figures"][0]["metric"] = raw["codebook"][0]["metric"]
        raw["figures"][0]["period_end"] = min(raw["sources"][0]["published"], raw["figures"][0]["period_end"])
        raw["figures"][0]["period_start"] = None
    if table == "events" and not raw["events"]:
        raw["events"] = [dict(VALID["events"][0], source_id=raw["sources"][0]["source_id"])]
    rows = raw[table]
    row = rows[data.draw(st.integers(0, len(rows) - 1))]
    if name == "duplicate_source":
        rows.append(dict(row))
    elif name == "after_publication":
        pub = {s["source_id"]: s["published"] for s in raw["sources"]}[row["source_id"]]
        if pub + dt.timedelta(days=c.PUBLICATION_GRACE_DAYS + 1) > HI:
            pub = HI - dt.timedelta(days=c.PUBLICATION_GRACE_DAYS + 1)
            next(s for s in raw["sources"] if s["source_id"] == row["source_id"]).update(published=pub)
        row.update(period_start=None,
                   period_end=pub + dt.timedelta(days=data.draw(st.integers(c.PUBLICATION_GRACE_DAYS + 1,
                                                                            (HI - pub).days))))
    else:
        breaker(row, data)
    failures = check_tables(frames(raw), COVERAGE, today=TODAY)[1]
    hits = [f for f in failures if f.table == table and f.rule == rule]
    assert hits, f"{name}: expected [{rule}] on {table}.{column}; got {[f.line() for f in failures]}"
    if rule != "inside_coverage":
        assert any(f.column == column for f in hits), [f.line() for f in hits]


# --- 3. damaged Parquet bytes -------------------------------------------------------------------

def _valid_parquet() -> tuple[bytes, pd.DataFrame]:
    typed, failures = check_tables(frames(VALID), COVERAGE, today=TODAY)
    assert not failures
    from conflictstats.store import PARQUET_KEY
    from conflictstats.tables import to_arrow

    meta = {PARQUET_KEY: json.dumps({"table": "figures", "metrics": [m["metric"] for m in VALID["codebook"]]}).encode()}
    data = parquet_bytes(to_arrow(typed["figures"], "figures", meta))
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "figures.parquet"
        p.write_bytes(data)
        original = read_table_file(p, "figures", sha256_bytes(data))
    return data, original


GOOD, ORIGINAL = _valid_parquet()
DAMAGE = st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.integers(1, 255)), min_size=1, max_size=4)


def _damaged(changes) -> bytes:
    b = bytearray(GOOD)
    for pos, mask in changes:
        b[pos] ^= mask
    return bytes(b)


@SETTINGS
@given(changes=DAMAGE)
def test_damaged_parquet_is_refused_or_original(changes):
    data = _damaged(changes)
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "figures.parquet"
        p.write_bytes(data)
        if data != GOOD:  # as shipped: the recorded SHA-256 refuses any change before parsing
            try:
                read_table_file(p, "figures", sha256_bytes(GOOD))
                raise AssertionError("a changed file was read")
            except IntegrityError:
                pass
        # A forged checksum (the file's own): the parser itself must refuse it or give the original.
        try:
            df = read_table_file(p, "figures", sha256_bytes(data))
        except UnreadableError:
            return
        assert df.equals(ORIGINAL), f"damaged bytes {changes} gave different data silently"


def test_damaged_parquet_never_kills_the_interpreter():
    """pyarrow can abort the whole process (SIGABRT at exit) after reading some corrupt files with
    its thread pool; the readers use one thread. Checked in a child process, where a crash shows."""
    code = f"""
import random, sys
from pathlib import Path
sys.path.insert(0, {str(ROOT / 'tests')!r})
from conflictstats.errors import UnreadableError
from conflictstats.userfiles import read_parquet
from conflictstats.api import read_table_file
from conflictstats.userfiles import as_raw
from conflictstats.manifest import sha256_bytes
good = Path(sys.argv[1]).read_bytes()
rnd = random.Random(7)
n = 0
for i in range(300):
    b = bytearray(good)
    for _ in range(rnd.randint(1, 3)):
        b[rnd.randrange(len(b))] ^= rnd.randint(1, 255)
    p = Path(sys.argv[2]) / "figures.parquet"
    p.write_bytes(bytes(b))
    for read in (lambda: read_parquet(p), lambda: read_table_file(p, "figures", sha256_bytes(bytes(b)))):
        try:
            read()
        except UnreadableError:
            n += 1
print(n)
"""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "good.parquet"
        src.write_bytes(GOOD)
        for _ in range(3):
            proc = subprocess.run([sys.executable, "-c", code, str(src), tmp], capture_output=True, text=True,
                                  timeout=300)
            assert proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr[-2000:]}"
            assert int(proc.stdout) > 0
