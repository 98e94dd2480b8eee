"""Enqueue outbox delivery after the transaction that wrote the outbox commits (never before, never instead).

An enqueue that fails (broker down) loses nothing: the rows are in the database, and beat runs delivery on its
own schedule as well, so delivery resumes when the broker is back (DESIGN.md §3.4).
"""

from __future__ import annotations

import logging

from django.db import transaction

logger = logging.getLogger("qms.clocks")


def _enqueue() -> None:
    from clocks.tasks import deliver

    try:
        deliver.apply_async(retry=False)
    except Exception as exc:  # the broker is down: the periodic delivery picks the rows up later
        logger.warning("could not enqueue outbox delivery (%s); the periodic delivery will send it", exc)


def deliver_after_commit() -> None:
    transaction.on_commit(_enqueue)
