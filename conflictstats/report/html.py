"""Render a Document as one self-contained HTML page: CSS inline, charts as SVG files beside it,
no scripts and no external requests (links are plain hyperlinks)."""

from __future__ import annotations

import re
from html import escape
from importlib import resources

from .doc import INLINE, Document, Figure, Heading, Items, Para, Table


def inline(text: str) -> str:
    """Escape text, turning ``[label](url)`` into links and ```code``` into <code>."""
    out, pos = [], 0
    for m in INLINE.finditer(text):
        out.append(escape(text[pos:m.start()]))
        if m.group(3) is not None:
            out.append(f"<code>{escape(m.group(3))}</code>")
        else:
            url = m.group(2)
            label = escape(m.group(1))
            if url.startswith(("http://", "https://")):
                out.append(f'<a href="{escape(url)}" rel="noreferrer">{label}</a>')
            elif LOCAL_PAGE.match(url):  # another page of the same set of reports
                out.append(f'<a href="{escape(url)}">{label}</a>')
            else:
                out.append(label)
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


# Links between the reports of one build: "<dataset>/index.html", "../comparison/index.html".
LOCAL_PAGE = re.compile(r"^(\.\./)?([a-z0-9][a-z0-9-]*/)?index\.html$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _td(text: str, numeric: bool) -> str:
    cls = "num" if numeric else "date" if DATE.match(text) else ""
    return f'<td class="{cls}">{inline(text)}</td>' if cls else f"<td>{inline(text)}</td>"


def _css() -> str:
    return resources.files(__package__).joinpath("style.css").read_text(encoding="utf-8")


def render(doc: Document) -> str:
    toc = [b for b in doc.blocks if isinstance(b, Heading) and b.level == 2]
    body = [f"<h1>{inline(doc.title)}</h1>", f'<p class="subtitle">{inline(doc.subtitle)}</p>',
            '<nav><ol>' + "".join(f'<li><a href="#{h.anchor}">{escape(h.text)}</a></li>' for h in toc)
            + "</ol></nav>"]
    for b in doc.blocks:
        if isinstance(b, Heading):
            body.append(f'<h{b.level} id="{b.anchor}">{escape(b.text)}</h{b.level}>')
        elif isinstance(b, Para):
            body.append(f'<p class="note">{inline(b.text)}</p>' if b.note else f"<p>{inline(b.text)}</p>")
        elif isinstance(b, Table):
            num = b.numeric or tuple(False for _ in b.columns)
            cls = lambda i: ' class="num"' if num[i] else ""  # noqa: E731
            rows = ["<tr>" + "".join(_td(c, num[i]) for i, c in enumerate(r)) + "</tr>" for r in b.rows]
            body.append('<div class="table"><table>'
                        + (f"<caption>{inline(b.caption)}</caption>" if b.caption else "")
                        + "<thead><tr>" + "".join(f"<th{cls(i)}>{escape(c)}</th>" for i, c in enumerate(b.columns))
                        + "</tr></thead><tbody>" + "\n".join(rows) + "</tbody></table></div>")
        elif isinstance(b, Figure):
            body.append(f'<figure><img src="{escape(b.path)}" alt="{escape(b.alt)}">'
                        f"<figcaption>{inline(b.caption)}</figcaption></figure>")
        elif isinstance(b, Items):
            tag = "ol" if b.ordered else "ul"
            body.append(f"<{tag}>" + "\n".join(f"<li>{inline(i)}</li>" for i in b.items) + f"</{tag}>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src 'self'; "
            "style-src 'unsafe-inline'\">\n"
            f"<title>{escape(doc.title)}</title>\n<style>\n{_css()}</style>\n</head>\n<body>\n<main>\n"
            + "\n".join(body) + "\n</main>\n</body>\n</html>\n")
