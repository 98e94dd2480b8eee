"""Agreement sections are Markdown; rendered to HTML and then sanitised (nh3) to a safe subset, so a section
can never carry script, styles or event handlers into the page or the PDF."""

from __future__ import annotations

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

TAGS = {"p", "br", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "code", "pre", "blockquote", "table",
        "thead", "tbody", "tr", "th", "td", "a", "hr"}


def render(text: str) -> SafeString:
    html = md.markdown(text or "", extensions=["tables", "sane_lists"])
    clean = nh3.clean(html, tags=TAGS, attributes={"a": {"href"}}, url_schemes={"https", "http", "mailto"})
    return mark_safe(clean)  # noqa: S308 - safe: nh3 has just reduced it to the allow-list above
