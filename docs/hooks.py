"""MkDocs hook: fills the data dictionary page from conflictstats.datamodel and the codebooks.

The page holds only a marker; the tables come from :func:`conflictstats.datadictionary.data_dictionary`,
so the site can never disagree with the schemas the package enforces.
"""

from __future__ import annotations

MARKER = "<!-- data-dictionary -->"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    from conflictstats.datadictionary import data_dictionary

    return markdown.replace(MARKER, data_dictionary())
