"""Render a Document as GitHub-flavoured Markdown (``report.md``), the same content as the HTML."""

from __future__ import annotations

from .doc import Document, Figure, Heading, Items, Para, Table


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(doc: Document) -> str:
    out = [f"# {doc.title}", "", f"*{doc.subtitle}*", ""]
    for b in doc.blocks:
        if isinstance(b, Heading):
            out += [f"{'#' * b.level} {b.text}", ""]
        elif isinstance(b, Para):
            out += [f"> {b.text}" if b.note else b.text, ""]
        elif isinstance(b, Table):
            if b.caption:
                out += [f"**{b.caption}**", ""]
            out.append("| " + " | ".join(_cell(c) for c in b.columns) + " |")
            num = b.numeric or tuple(False for _ in b.columns)
            out.append("|" + "|".join("---:" if n else "---" for n in num) + "|")
            out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in b.rows]
            out.append("")
        elif isinstance(b, Figure):
            out += [f"![{b.alt}]({b.path})", "", f"*{b.caption}*", ""]
        elif isinstance(b, Items):
            out += [(f"{i}. " if b.ordered else "- ") + item for i, item in enumerate(b.items, 1)]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
