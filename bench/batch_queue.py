"""Measure the batch list and the sponsor's review queue at scale, under row-level security.

Usage (with the services of ``python -m qms.devstack services`` exported, migrated and ``seed_demo`` loaded)::

    python bench/batch_queue.py [--batches 5000 --repeat 15]

It (1) deletes earlier ``BENCH-`` lots and bulk-creates ``--batches`` batches spread over the demo's three
partnerships and every status, with QC results (some flagged) and changes in effect, under
``rls.system_context``; (2) ANALYZEs the tables; (3) acting as ``helix.qa`` (a sponsor) and ``acme.qa`` (a CMO),
times the first page (50 rows) of the list, of the review queue, and of the queue filtered to batches with
exceptions, each as the compiled SQL of the selector (median of ``--repeat`` runs), and prints the plan's
top lines so an index (``batch_sponsor_queue``, ``batch_owner_state``) can be seen at work; (4) deletes the
bench rows again. Nothing here is a test: numbers go to docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from batches import selectors  # noqa: E402
from batches.filters import BatchFilter  # noqa: E402
from batches.models import Batch, ChangeInEffect, QcResult  # noqa: E402
from tenants import rls  # noqa: E402
from tenants.models import Membership, Partnership, User  # noqa: E402

STATES = [s for s, _ in Batch.State.choices]


def generate(count: int) -> None:
    with transaction.atomic(), rls.system_context("bench: batch data"):
        Batch.objects.filter(lot_number__startswith="BENCH-").delete()
        creator = User.objects.get(username="acme.qa")
        today = timezone.localdate()
        now = timezone.now()
        partnerships = list(Partnership.objects.prefetch_related("products", "sites"))
        rows = []
        for i in range(count):
            p = partnerships[i % len(partnerships)]
            state = STATES[i % len(STATES)]
            rows.append(Batch(
                organization_id=p.cmo_id, partnership=p, sponsor_id=p.sponsor_id, product=p.products.all()[0],
                site=p.sites.all()[0], lot_number=f"BENCH-{i:07d}", manufactured_on=today - dt.timedelta(days=i % 400),
                quantity=Decimal(1000), unit="units", release_model="cmo_then_sponsor", state=state,
                sent_to_sponsor_at=now - dt.timedelta(hours=i % 900) if state != "in_production" else None,
                created_by=creator))
        Batch.objects.bulk_create(rows, batch_size=2000)
        results, changes = [], []
        for b in rows:
            for n in range(3):
                results.append(QcResult(batch=b, organization_id=b.organization_id, sponsor_id=b.sponsor_id,
                                        partnership_id=b.partnership_id, position=n, test=f"Test {n}",
                                        specification="spec", result="ok", oos=(b.pk % 17 == 0 and n == 0)))
            if b.pk % 11 == 0:
                changes.append(ChangeInEffect(batch=b, organization_id=b.organization_id, sponsor_id=b.sponsor_id,
                                              partnership_id=b.partnership_id, reference=f"CC-{b.pk}", title="x"))
        QcResult.objects.bulk_create(results, batch_size=5000)
        ChangeInEffect.objects.bulk_create(changes, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE batches_batch; ANALYZE batches_qcresult; ANALYZE batches_changeineffect; "
                       "ANALYZE batches_document; ANALYZE batches_query; ANALYZE deviations_affectedproduct")


def measure(username: str, repeat: int) -> None:
    with transaction.atomic(), rls.system_context("bench: find the acting membership"):
        member = Membership.objects.select_related("organization", "user").get(user__username=username)
    with transaction.atomic(), rls.scoped(rls.Context(user_id=member.user_id, organization_id=member.organization_id,
                                                      membership_id=member.pk)):
        cases = {
            "list, first page": selectors.batch_list(membership=member)[:50],
            "review queue, first page": selectors.review_queue(membership=member)[:50],
            "queue with exceptions": BatchFilter({"exceptions": "true"},
                                                 queryset=selectors.review_queue(membership=member)).qs[:50],
        }
        for name, queryset in cases.items():
            sql, params = queryset.query.sql_with_params()
            timings = []
            with connection.cursor() as cursor:
                for _ in range(repeat):
                    start = time.perf_counter()
                    cursor.execute(sql, params)
                    cursor.fetchall()
                    timings.append((time.perf_counter() - start) * 1000)
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = [row[0] for row in cursor.fetchall()]
            indexes = sorted({m.group(1) for line in plan for m in re.finditer(r"Index.*? (?:using|on) (\w+)", line)
                              if m.group(1).startswith(("batch", "qc_", "query_"))})
            print(f"| {username} | {name} | {statistics.median(timings):.1f} ms | {', '.join(indexes) or '-'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the generated rows")
    parser.add_argument("--reuse", action="store_true", help="measure the rows a --keep run left")
    args = parser.parse_args()
    if not args.reuse:
        start = time.perf_counter()
        generate(args.batches)
        # Every row passes the audit trigger (hash-chained per organization): that, not Python, is the cost.
        print(f"generated {args.batches} batches in {time.perf_counter() - start:.1f} s\n")
    print("| acting | query | median | batch indexes in the plan |\n| --- | --- | --- | --- |")
    for username in ("helix.qa", "northwind.qa", "acme.qa"):
        measure(username, args.repeat)
    if not args.keep:
        with transaction.atomic(), rls.system_context("bench: delete batch data"):
            QcResult.objects.filter(batch__lot_number__startswith="BENCH-").delete()
            ChangeInEffect.objects.filter(batch__lot_number__startswith="BENCH-").delete()
            Batch.objects.filter(lot_number__startswith="BENCH-").delete()


if __name__ == "__main__":
    main()
