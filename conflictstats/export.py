"""`conflictstats export`: the tables as CSV, Parquet or an Excel workbook, with a README.

For people who take the data without the package. Every table is read through the verified
load path first, so an export never spreads a corrupt file. Each export carries its citation
and license (README.md, and a README sheet in the workbook) and a SHA256SUMS of its own files;
a CSV export also gets its own datapackage.json (CSV resources, same Table Schemas, list columns
as ';'-separated text), which `frictionless validate` checks in full.
Outputs are deterministic: the same release gives the same bytes (no timestamps, even in XLSX).
Text that a spreadsheet would run as a formula (CWE-1236: a cell starting with =, +, -, @, tab
or carriage return, e.g. ``=HYPERLINK(...)`` in a fetched release) is written as a text cell in
XLSX and with a leading apostrophe in CSV (the OWASP rule); numbers stay numbers. The folder is
written whole or not at all (:mod:`.outfolder`: a lock, a staging folder, a swap).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pandas as pd

from . import datamodel as c
from .api import load, table_path
from .datapackage import LIST_SEPARATOR, descriptor
from .errors import ConflictstatsError, IntegrityError, UnreadableError
from .registry import DEFAULT_DATASET, DatasetInfo, dataset_info
from .release import MANIFEST, check_release_name
from .suggest import check_name
from .manifest import SUMS_FILE, read_sums, read_verified, sha256_bytes
from .outfolder import write_folder
from .store import dumps_json

FORMATS = ("csv", "parquet", "xlsx")
README = "README.md"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")  # OWASP: a cell starting so may run as a formula


def export(dataset: str = DEFAULT_DATASET, fmt: str = "csv", out_dir: Path | str = ".",
           release: str | None = None) -> dict[str, Path]:
    """Write a dataset's tables to ``out_dir`` in ``fmt``; returns {file name: path}."""
    check_name("export format", fmt, FORMATS)
    info = dataset_info(dataset)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise UnreadableError(f"{out}: exists and is not a folder; --out must name a folder.")
    folder = table_path(c.TABLES[0], dataset, release).parent
    sums = read_sums(folder)
    package = json.loads(read_verified(folder / "datapackage.json", sums.get("datapackage.json")))
    tables = {t: load(t, dataset, release) for t in c.TABLES}
    release_name = _release_name(package, release or info.release, folder)

    blobs: dict[str, bytes] = {}
    if fmt == "csv":
        for t, df in tables.items():
            flat = _flat(df)
            for col in flat.columns:  # element by element: the column keeps its object dtype
                flat[col] = pd.Series([csv_text(v) for v in flat[col]], index=flat.index, dtype=object)
            blobs[f"{t}.csv"] = flat.to_csv(index=False, lineterminator="\n").encode("utf-8")
        files = {t: (len(blobs[f"{t}.csv"]), sha256_bytes(blobs[f"{t}.csv"])) for t in c.TABLES}
        rows = {t: len(df) for t, df in tables.items()}
        blobs["datapackage.json"] = dumps_json(descriptor(info, files, rows, fmt="csv"))
    elif fmt == "parquet":
        for name in [f"{t}.parquet" for t in c.TABLES] + ["datapackage.json", MANIFEST]:
            if name in sums:  # byte-identical copies, verified on the way
                blobs[name] = read_verified(folder / name, sums[name])
    else:
        blobs[f"{info.name}-{release_name}.xlsx"] = _xlsx(info, release_name, package, tables)
    blobs[README] = readme(info, release_name, package, tables, fmt, blobs).encode("utf-8")

    write_folder(out, blobs)
    return {name: out / name for name in [*blobs, SUMS_FILE]}


def _release_name(package: dict, release: str, folder: Path) -> str:
    """The release named by datapackage.json, which becomes part of a file name: it must pass the
    release-name rule (one safe path component), else the export is refused."""
    named = package.get("version", release)
    try:
        return check_release_name(named)
    except UnreadableError:
        raise IntegrityError(f"{folder / 'datapackage.json'}: its version {named!r} is not a valid release "
                             f"name (letters, digits, '.', '-', '+', '_'); refusing to name export files "
                             f"after it.") from None


def _flat(df: pd.DataFrame) -> pd.DataFrame:
    """Spreadsheet-friendly cells: dates as YYYY-MM-DD text, lists joined with ';', missing as empty."""
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%d").astype("object").where(s.notna(), None)
        elif s.dtype == object and s.map(lambda v: isinstance(v, list)).any():
            out[col] = s.map(lambda v: LIST_SEPARATOR.join(v) if isinstance(v, list) else None)
        else:
            out[col] = s.astype("object").where(s.notna(), None)
    return out


def csv_text(value: object) -> object:
    """A cell for CSV: text a spreadsheet would run as a formula gets a leading apostrophe
    (OWASP's rule for CSV injection), and a carriage return becomes a line feed (the CSV writer
    quotes a field only for the latter; a bare CR would end the row, and what follows could
    start a new one with '='). Other values, numbers included, are unchanged."""
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_LEADS):
        value = "'" + value
    return value.replace("\r\n", "\n").replace("\r", "\n")


def readme(info: DatasetInfo, release: str, package: dict, tables: dict[str, pd.DataFrame], fmt: str,
           blobs: dict[str, bytes]) -> str:
    """The README of an export: what it is, how to cite it, its license, its files and columns."""
    license_ = (package.get("licenses") or [{}])[0]
    lines = [
        f"# {info.title}",
        "",
        f"Dataset `{info.name}`, release {release}, exported by conflictstats as {fmt}.",
        "",
        info.description,
        "",
        "## How to cite",
        "",
        package.get("citation", info.citation()),
        "",
        "```bibtex",
        info.bibtex(),
        "```",
        "",
        "## License",
        "",
        f"Data: {license_.get('name', info.license)} ({license_.get('title', '')}, {license_.get('path', '')}). "
        f"Attribute the dataset as cited above and each figure to its source (the sources table gives "
        f"every document's publisher and URL).",
        "",
        "## Files",
        "",
        "| file | rows | SHA-256 |",
        "|---|---|---|",
    ]
    for name, data in blobs.items():
        stem = name.split(".")[0]
        rows = len(tables[stem]) if stem in tables else ""
        lines.append(f"| {name} | {rows} | {sha256_bytes(data)} |")
    lines += ["", f"`{SUMS_FILE}` lists the same hashes (check with `sha256sum -c {SUMS_FILE}`).", "",
              "## Conventions", "",
              "- Dates are written YYYY-MM-DD; an empty cell means the source does not give a value.",
              f"- `admin1_pcodes` lists OCHA admin-1 p-codes separated by '{LIST_SEPARATOR}' in CSV and XLSX "
              f"(a list column in Parquet).",
              "- Text that begins with =, +, -, @, a tab or a carriage return (which a spreadsheet could run "
              "as a formula) is written with a leading apostrophe (') in CSV; remove that one character to get "
              "the text as published. In XLSX such text is stored as a plain text cell, unchanged. Line breaks inside "
              "a text are written as line feeds (LF), within quotes.",
              "- Each figure is kept as its source reported it (window, qualifier, originator); sources that "
              "disagree are kept side by side. Do not add up figures without reading their windows.",
              ""]
    for res in package.get("resources", []):
        lines += [f"## Columns of `{res['name']}`", "", "| column | type | description |", "|---|---|---|"]
        for f in res["schema"]["fields"]:
            desc = f.get("description", "").replace("|", "\\|")
            lines.append(f"| {f['name']} | {f['type']} | {desc} |")
        lines.append("")
    return "\n".join(lines)


def _xlsx(info: DatasetInfo, release: str, package: dict, tables: dict[str, pd.DataFrame]) -> bytes:
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
    except ImportError:
        raise ConflictstatsError("XLSX export needs openpyxl: pip install 'conflictstats[xlsx]'.") from None
    import datetime as dt

    wb = Workbook()
    ws = wb.active
    ws.title = "README"
    license_ = (package.get("licenses") or [{}])[0]
    facts = [("Dataset", info.name), ("Title", info.title), ("Release", release),
             ("Citation", package.get("citation", info.citation())),
             ("License", f"{license_.get('name', info.license)} {license_.get('path', '')}".strip()),
             ("Homepage", info.homepage), ("Description", info.description),
             ("Conventions", "Empty cell = not given by the source. admin1_pcodes: OCHA p-codes separated by ';'. "
                             "Figures are kept as reported; read their windows before comparing them.")]
    for key, value in facts:
        append_row(ws, [key, value])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
    ws.append([])
    ws.append(["Sheet", "Rows"])
    for t, df in tables.items():
        ws.append([t, len(df)])
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 120
    for t, df in tables.items():
        sheet = wb.create_sheet(t)
        flat = _flat(df)
        dates = [col for col in df.columns if pd.api.types.is_datetime64_any_dtype(df[col])]
        append_row(sheet, list(flat.columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in flat.itertuples(index=False):
            append_row(sheet, [dt.date.fromisoformat(v) if col in dates and v is not None else v
                               for col, v in zip(flat.columns, row)])
        for j, col in enumerate(flat.columns, 1):
            if col in dates:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = "yyyy-mm-dd"
        sheet.freeze_panes = "A2"
    fixed = dt.datetime.combine(info.release_date, dt.time())
    wb.properties.creator = "conflictstats"
    wb.properties.created = fixed
    buf = io.BytesIO()
    wb.save(buf)
    return _normalise_zip(buf.getvalue(), fixed)


def append_row(sheet, values: list) -> None:
    """Append a row where every text value is a text cell: openpyxl would store text starting with
    '=' as a live formula. Control characters, which an XLSX file cannot hold, are written as
    ``\\xNN`` escapes."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    values = [ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", v) if isinstance(v, str) else v
              for v in values]
    sheet.append(values)
    for cell, v in zip(sheet[sheet.max_row], values):
        if isinstance(v, str):
            cell.data_type = "s"


def _normalise_zip(data: bytes, when) -> bytes:
    """Rewrite an XLSX with fixed entry times and document dates, so equal data gives equal bytes."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                body = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                              rb"\g<1>" + stamp.encode() + rb"\g<2>", body)
            info = zipfile.ZipInfo(item.filename, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, body)
    return buf.getvalue()
