"""HTML → PDF in worker processes, for the demo seed's executed batch records and certificates (``batches.demo``).

Imports nothing of Django, so a freshly spawned worker needs only WeasyPrint: it never inherits the seeding
process's database connection or its open transaction.
"""

from __future__ import annotations

import logging


def render(html: str) -> bytes:
    from weasyprint import HTML

    # Every subset font is logged at INFO/WARNING; the parent's logging configuration does not reach a worker.
    for name in ("weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return HTML(string=html).write_pdf()
