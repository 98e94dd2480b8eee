"""Measure the clock sweep and the outbox delivery: does their cost follow the due work or the open deadlines?

Usage (with the development services exported, ``source /tmp/env.sh`` or the ``export`` lines of
``python -m qms.devstack services``)::

    python bench/clock_sweep.py [--open 1000000 --due 10000 --baseline-open 1000 --repeat 3 --db qms_clock_bench]
    python bench/clock_sweep.py --quick          # 20,000 open / 1,000 due: a smoke run of well under a minute

It never writes to the development database: it creates its own database (``--db``, owned by the owner role of
``DATABASE_OWNER_URL``, on the same server), migrates it and builds the demo cast of ``tests.factories.build_cast``
in it once, and leaves it in place for the next run (``--drop`` drops it at the end). For each scenario it

1. empties the clocks tables and generates the deadlines with set-based SQL (``INSERT ... SELECT ... FROM
   generate_series``) as the owner role, with the audit triggers of ``clocks_deadline`` and
   ``clocks_deadlineaudience`` disabled for the generation only, then ``VACUUM ANALYZE`` (what autovacuum would
   have done in production). Every deadline has one audience row (its owner organization, the QA roles) and
   4 or 5 stages (two reminders, the due point, one or two escalations). A not-due deadline has all of them
   pending in the future; a due deadline's reminders have fired, its due point is pending and 1 to 600 s past,
   its escalations are pending in the future. So each due deadline holds exactly one due stage, of kind ``due``:
   the sweep marks that deadline missed (an audited UPDATE) and writes one notification per active member of
   the audience's roles;
2. checks that the audit triggers are enabled again, warms the application role's connection as a worker's
   would be (a sweep and a delivery "a month before T0", when nothing is due; those idle sweeps are timed too:
   the cost of a sweep over all the open deadlines with nothing due), then times ``clocks.sweep.sweep(now=T0)``
   and ``clocks.delivery.deliver_pending(now=T0)`` as the application role, exactly as the Celery tasks call
   them (row-level security forced, audit trigger firing), with Django's locmem e-mail backend;
3. resets what the sweep and delivery changed (stages back to pending, deadlines back to open, outbox emptied;
   triggers disabled for the reset only), ``VACUUM ANALYZE``s, and repeats (``--repeat``, median reported);
4. runs ``EXPLAIN (ANALYZE, BUFFERS)`` on the sweep's claim query and on one whole batch statement, and (in the
   first run, between the two timings) on the delivery's claim query with the whole outbox pending, each in a
   transaction that is rolled back.

The outbox index ``outbox_pending`` covers ``(next_attempt_at, id) WHERE email_state = 'pending'``, the order the
delivery claims in; an earlier run of this bench showed what happens without it (docs/performance.md).

The scenarios: *large* (``--open`` open deadlines of which ``--due`` are due), *baseline* (the same ``--due`` due
deadlines plus only ``--baseline-open`` not-due ones: the same due work, far less open work) and *literal*
(``--baseline-open`` open deadlines with the large scenario's due share, e.g. 1,000 with 10 due, compared per
due stage). The ratio large / baseline is the answer to "does the cost follow due work, not open work?".

Timings are wall-clock ``time.perf_counter()`` around the two calls (Python + round trips + PostgreSQL), one
process, one connection. Not in them: the Celery enqueue after each batch's commit (``clocks.dispatch._enqueue``
is replaced by a counter so that no task reaches the development broker) and the ``qms.security`` /
``qms.clocks`` INFO log lines (one per delivered notification), silenced as in ``bench/rls_explain.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
CLOCK_TABLES = ("clocks_deliveryattempt", "clocks_notification", "clocks_deadlinestage", "clocks_deadlineaudience",
                "clocks_deadline")
AUDITED = ("clocks_deadline", "clocks_deadlineaudience")
#: The sweep's time: every generated fire time is relative to it, and the sweep and delivery run "at" it.
T0 = dt.datetime(2026, 3, 2, 14, 0, tzinfo=dt.UTC)
#: A month earlier nothing is due: a sweep "at" IDLE finds no stage (it warms the connection, and times an idle sweep).
IDLE = T0 - dt.timedelta(days=30)
QA_ROLES = ["qa_approver", "qa_reviewer"]

# --- Generation SQL (the owner role; %(...)s parameters) ---------------------------------------------------------

PLAN_SQL = """
CREATE TEMP TABLE bench_plan ON COMMIT DROP AS
SELECT g AS id, d.is_due, d.ordinal,
       CASE WHEN d.is_due THEN (%(orgs)s::bigint[])[1 + d.ordinal %% cardinality(%(orgs)s::bigint[])]
            ELSE (%(orgs)s::bigint[])[1 + g %% cardinality(%(orgs)s::bigint[])] END AS organization_id,
       CASE WHEN d.is_due THEN %(t0)s::timestamptz - make_interval(secs => 1 + d.ordinal %% 600)
            ELSE %(t0)s::timestamptz + interval '7 days' + make_interval(days => (g %% 90)::int,
                                                                           secs => g %% 86400) END AS due_at,
       4 + (g %% 2)::int AS stages
FROM generate_series(1::bigint, %(open)s::bigint) AS g,
     LATERAL (SELECT g * %(due)s / %(open)s AS ordinal,
                     g * %(due)s / %(open)s <> (g - 1) * %(due)s / %(open)s AS is_due) AS d
"""

DEADLINE_SQL = """
INSERT INTO clocks_deadline (
    id, organization_id, record_table, record_id, subject_label, rule_code, title, amount, unit, calendar, time_zone,
    start_event, stage_specs, starts_at, due_at, original_due_at, due_soon_at, rule_text, extension_note, extendable,
    closed_by_hand, state, completed_at, completed_by_id, completed_late, cancel_reason, assignee_id, created_at,
    version)
SELECT p.id, p.organization_id, 'bench_record', p.id, 'FDA 483 at bench site ' || p.id, 'bench_483_response',
       'FDA 483 response', 15, 'business_days', 'us_federal', 'America/New_York', '483 issued',
       '[["reminder", -5, "business_days"], ["reminder", -1, "business_days"], ["due", 0, "business_days"],
         ["escalation", 1, "business_days"], ["escalation", 3, "business_days"]]'::jsonb,
       p.due_at - interval '21 days', p.due_at, p.due_at, p.due_at - interval '5 days',
       '15 business days from the 483 (US federal calendar): weekends and federal holidays skipped', '', false,
       false, 'open', NULL, NULL, false, '', NULL, p.due_at - interval '21 days', 1
FROM bench_plan p ORDER BY p.id
"""

AUDIENCE_SQL = """
INSERT INTO clocks_deadlineaudience (deadline_id, organization_id, owner_organization_id, roles)
SELECT p.id, p.organization_id, p.organization_id, %(roles)s::varchar[] FROM bench_plan p ORDER BY p.id
"""

STAGE_SQL = """
INSERT INTO clocks_deadlinestage (deadline_id, organization_id, kind, label, fire_at, state, fired_at)
SELECT p.id, p.organization_id, s.kind, s.label, p.due_at + s.offset_,
       CASE WHEN p.is_due AND s.offset_ < interval '0' THEN 'fired' ELSE 'pending' END,
       CASE WHEN p.is_due AND s.offset_ < interval '0' THEN p.due_at + s.offset_ END
FROM bench_plan p
JOIN (VALUES (1, 'reminder', 'Reminder: 5 business days left', interval '-5 days'),
             (2, 'reminder', 'Reminder: due tomorrow', interval '-1 day'),
             (3, 'due', 'Due', interval '0'),
             (4, 'escalation', 'Escalation: 1 business day overdue', interval '1 day'),
             (5, 'escalation', 'Escalation: 3 business days overdue', interval '3 days'))
     AS s (n, kind, label, offset_) ON s.n <= p.stages
ORDER BY p.id, s.n
"""


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=1_000_000, help="open deadlines in the large scenario")
    parser.add_argument("--due", type=int, default=10_000, help="of those, deadlines with a due stage")
    parser.add_argument("--baseline-open", type=int, default=1_000,
                        help="not-due open deadlines next to the same due ones in the baseline; also the size of "
                             "the literal scenario")
    parser.add_argument("--repeat", type=int, default=3, help="timed sweep + delivery runs per scenario (median)")
    parser.add_argument("--batch", type=int, default=None, help="sweep batch size (default: clocks.sweep.BATCH)")
    parser.add_argument("--db", default="qms_clock_bench", help="the bench database (created if missing)")
    parser.add_argument("--drop", action="store_true", help="drop the bench database at the end")
    parser.add_argument("--no-literal", action="store_true", help="skip the literal small scenario")
    parser.add_argument("--quick", action="store_true", help="smoke run: --open 20000 --due 1000, 2 repeats")
    args = parser.parse_args(argv)
    if args.quick:
        args.open, args.due, args.repeat = 20_000, 1_000, 2
    if not 0 < args.due <= args.open:
        parser.error("need 0 < --due <= --open")
    return args


# --- Database and Django ---------------------------------------------------------------------------------------


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def point_at_bench_database(args: argparse.Namespace) -> None:
    """Point DATABASE_URL / DATABASE_OWNER_URL at the bench database (before Django reads them), creating it."""
    app_url, owner_url = os.environ.get("DATABASE_URL", ""), os.environ.get("DATABASE_OWNER_URL", "")
    if not app_url or not owner_url:
        raise SystemExit("DATABASE_URL and DATABASE_OWNER_URL must be set (source /tmp/env.sh)")
    development = urlsplit(app_url).path.lstrip("/")
    if args.db == development:
        raise SystemExit(f"--db {args.db} is the development database; the bench needs a database of its own")
    os.environ["DATABASE_URL"] = with_database(app_url, args.db)
    os.environ["DATABASE_OWNER_URL"] = with_database(owner_url, args.db)
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"

    with maintenance_cursor(owner_url) as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.db])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{args.db}" OWNER "{urlsplit(owner_url).username}"')
            print(f"created database {args.db}", flush=True)


@contextmanager
def maintenance_cursor(owner_url: str) -> Iterator[Any]:
    """An autocommit cursor as the owner role on the server's ``postgres`` database (CREATE / DROP DATABASE)."""
    import environ
    import psycopg2

    config = environ.Env.db_url_config(with_database(owner_url, "postgres"))
    conn = psycopg2.connect(host=unquote(config["HOST"] or ""), port=config.get("PORT") or None,
                            user=config["USER"], password=config.get("PASSWORD") or None, dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def drop_bench_database(args: argparse.Namespace) -> None:
    from django.db import connections

    connections.close_all()
    with maintenance_cursor(os.environ["DATABASE_OWNER_URL"]) as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{args.db}"')
    print(f"dropped database {args.db}")


def setup_django() -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    import django

    django.setup()
    import logging

    logging.getLogger("qms.security").setLevel(logging.WARNING)  # one "system context entered" line per e-mail
    logging.getLogger("qms.clocks").setLevel(logging.WARNING)

    from clocks import dispatch

    dispatch._enqueue = count_enqueue  # no delivery task may reach the development broker


ENQUEUED = [0]


def count_enqueue() -> None:
    ENQUEUED[0] += 1


def prepare_database(expected: str) -> list[int]:
    """Migrate the bench database, build the demo cast once; return the organization ids (deadline owners)."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from tenants import rls
    from tenants.models import Organization

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        actual = cursor.fetchone()[0]
    if actual != expected:
        raise SystemExit(f"connected to {actual}, expected {expected}: refusing to write")
    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    with transaction.atomic(), rls.system_context("bench: build the demo cast"):
        if not Organization.objects.filter(slug="helix").exists():
            from tests.factories import build_cast

            build_cast()
        orgs = list(Organization.objects.order_by("id").values_list("id", flat=True))
    print(f"database {expected} migrated, cast ready in {time.perf_counter() - began:.1f} s", flush=True)
    return orgs


def owner_sql(statements: list[tuple[str, Any]], *, atomic: bool = True) -> list[int]:
    """Run statements as the owner role (in one transaction unless ``atomic`` is false); return their rowcounts."""
    from django.db import connection, transaction

    from qms.dbroles import as_owner

    counts = []
    with as_owner(), transaction.atomic() if atomic else nullcontext(), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params or None)
            counts.append(cursor.rowcount)
    return counts


def triggers(enable: bool) -> list[tuple[str, Any]]:
    """Switch the audit triggers (USER triggers: the foreign-key checks stay on, checked per statement so that no
    trigger event is pending when the triggers are switched back on)."""
    verb = "ENABLE" if enable else "DISABLE"
    return [("SET CONSTRAINTS ALL IMMEDIATE", {}), *((f"ALTER TABLE {table} {verb} TRIGGER USER", {})
                                                    for table in AUDITED)]


def vacuum() -> None:
    owner_sql([(f"VACUUM ANALYZE {table}", {}) for table in CLOCK_TABLES], atomic=False)


def generate(open_: int, due: int, orgs: list[int]) -> dict[str, int]:
    before = [("TRUNCATE " + ", ".join(CLOCK_TABLES) + " RESTART IDENTITY", {}), *triggers(enable=False),
              (PLAN_SQL, {"open": open_, "due": due, "orgs": orgs, "t0": T0})]
    inserts = [(DEADLINE_SQL, {}), (AUDIENCE_SQL, {"roles": QA_ROLES}), (STAGE_SQL, {})]
    after = [("SELECT setval(pg_get_serial_sequence('clocks_deadline', 'id'), %s)", [open_]), *triggers(enable=True)]
    counts = owner_sql([*before, *inserts, *after])[len(before):len(before) + len(inserts)]
    vacuum()
    return dict(zip(("deadlines", "audiences", "stages"), counts, strict=True))


def reset() -> None:
    """Undo one sweep + delivery: the claimed stages pending again, their deadlines open, the outbox empty."""
    owner_sql([
        *triggers(enable=False),
        ("TRUNCATE clocks_deliveryattempt, clocks_notification RESTART IDENTITY", {}),
        ("UPDATE clocks_deadlinestage SET state = 'pending', fired_at = NULL WHERE state = 'fired' AND fired_at = %s",
         [T0]),
        ("UPDATE clocks_deadline SET state = 'open', version = version - 1 WHERE state = 'missed'", {}),
        *triggers(enable=True),
    ])
    vacuum()


def check_ready(due: int) -> int:
    """Triggers on, and exactly ``due`` stages due at T0, as the timed sweep must find them; return pending stages."""
    from django.db import connection

    from qms.dbroles import as_owner

    with as_owner(), connection.cursor() as cursor:
        cursor.execute("SELECT tgrelid::regclass::text, tgenabled FROM pg_trigger WHERE NOT tgisinternal "
                       "AND tgrelid = ANY(%s::regclass[])", [list(AUDITED)])
        states = dict(cursor.fetchall())
        cursor.execute("SELECT count(*) FILTER (WHERE fire_at <= %s), count(*) FROM clocks_deadlinestage "
                       "WHERE state = 'pending'", [T0])
        due_now, pending = cursor.fetchone()
    if set(states) != set(AUDITED) or set(states.values()) != {"O"}:
        raise SystemExit(f"audit triggers not enabled before the timed sweep: {states}")
    if due_now != due:
        raise SystemExit(f"expected {due} due stages at T0, found {due_now}")
    return pending


def deadline_audit_events() -> int:
    from django.db import connection

    from qms.dbroles import as_owner

    with as_owner(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM part11_auditevent WHERE record_table = 'clocks_deadline'")
        return cursor.fetchone()[0]


# --- Measurement -----------------------------------------------------------------------------------------------


@dataclass
class Run:
    sweep_s: float
    stages: int
    missed: int
    notifications: int
    delivery_s: float
    sent: int
    audit_events: int
    batches: int
    idle_sweep_s: float


@dataclass
class Scenario:
    name: str
    open: int
    due: int
    volumes: dict[str, int] = field(default_factory=dict)
    pending: int = 0
    generate_s: float = 0.0
    runs: list[Run] = field(default_factory=list)
    claim_plan: str = ""
    batch_plan: str = ""
    outbox_plan: str = ""

    def median(self, attribute: str) -> float:
        return statistics.median(getattr(run, attribute) for run in self.runs)


def timed_run(batch: int, scenario: Scenario | None = None) -> Run:
    """One timed sweep, then one timed delivery of what it wrote. With ``scenario``, also EXPLAIN the delivery's
    claim query with the whole outbox pending (between the two timings)."""
    from django.core import mail
    from django.db import connection

    from clocks.delivery import deliver_pending
    from clocks.sweep import sweep

    before = deadline_audit_events()
    # A worker's connection is warm (CONN_MAX_AGE): open one as the app role and run a sweep and a delivery that
    # find nothing (nothing is due a month before T0), so no connect or first-use catalogue lookups are timed.
    # Those idle sweeps are timed too: what a sweep costs with all the open deadlines and nothing due.
    deliver_pending(now=IDLE, time_budget=float("inf"))
    idle = []
    for _ in range(6):
        start = time.perf_counter()
        empty = sweep(now=IDLE, batch=batch)
        idle.append(time.perf_counter() - start)
        if empty.stages:
            raise SystemExit(f"the idle sweep fired {empty.stages} stages")
    idle_sweep_s = statistics.median(idle[1:])
    mail.outbox = []
    ENQUEUED[0] = 0
    start = time.perf_counter()
    result = sweep(now=T0, batch=batch)
    sweep_s = time.perf_counter() - start
    batches = ENQUEUED[0]
    if scenario is not None:
        scenario.outbox_plan = explain_outbox()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    start = time.perf_counter()
    delivered = deliver_pending(now=T0, time_budget=float("inf"))
    delivery_s = time.perf_counter() - start
    if delivered.sent != len(mail.outbox) or delivered.failed or delivered.retrying:
        raise SystemExit(f"delivery went wrong: {delivered}, {len(mail.outbox)} messages in the locmem outbox")
    mail.outbox = []
    audit = deadline_audit_events() - before
    return Run(sweep_s, result.stages, result.missed, result.notifications, delivery_s, delivered.sent, audit,
               batches, idle_sweep_s)


def explain_outbox() -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the query each delivery transaction starts with (it mirrors
    ``clocks.delivery._deliver_one``), rolled back."""
    from django.db import connection, transaction

    from clocks.models import Notification
    from tenants import rls

    with transaction.atomic(), rls.system_context("bench: explain the outbox claim"):
        query = (Notification.objects.select_for_update(skip_locked=True, of=("self",)).select_related("user")
                 .filter(email_state=Notification.Email.PENDING, next_attempt_at__lte=T0)
                 .order_by("next_attempt_at", "id")[:1])
        sql, params = query.query.get_compiler(connection.alias).as_sql()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


def explain(batch: int) -> tuple[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the claim query and of one whole batch statement, as the sweep runs them
    (app role, system context, audit reason), in a transaction that is rolled back."""
    from django.db import connection, transaction

    from clocks.sweep import SWEEP_SQL
    from part11.audit import reason_for_change
    from tenants import rls

    match = re.search(r"WITH due AS \((.*?)\), fired AS", SWEEP_SQL, re.DOTALL)
    if match is None:
        raise SystemExit("could not find the claim query (the 'due' CTE) in clocks.sweep.SWEEP_SQL")
    claim = match.group(1)
    params = {"now": T0, "batch": batch}
    plans = []
    for sql in (claim, SWEEP_SQL):
        with transaction.atomic(), rls.system_context("bench: explain the sweep"), \
                reason_for_change("bench: explain the sweep (rolled back)"), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
            transaction.set_rollback(True)
    return plans[0], plans[1]


def measure(scenario: Scenario, orgs: list[int], args: argparse.Namespace, batch: int) -> None:
    print(f"\n== {scenario.name}: {scenario.open:,} open deadlines, {scenario.due:,} due ==", flush=True)
    began = time.perf_counter()
    scenario.volumes = generate(scenario.open, scenario.due, orgs)
    scenario.generate_s = time.perf_counter() - began
    print(f"generated in {scenario.generate_s:.1f} s (incl. VACUUM ANALYZE): {scenario.volumes}", flush=True)
    for index in range(args.repeat):
        if index:
            reset()
        scenario.pending = check_ready(scenario.due)
        run = timed_run(batch, scenario if index == 0 else None)
        scenario.runs.append(run)
        print(f"run {index + 1}: idle sweep {run.idle_sweep_s * 1e3:.2f} ms; sweep {run.sweep_s:.3f} s "
              f"({run.stages:,} stages fired, {run.missed:,} missed, {run.notifications:,} notifications, "
              f"{run.audit_events:,} audit events, {run.batches} batches committed); "
              f"delivery {run.delivery_s:.3f} s ({run.sent:,} e-mails)", flush=True)
        if run.stages != scenario.due:
            raise SystemExit(f"the sweep fired {run.stages} stages, expected {scenario.due}")
    reset()
    check_ready(scenario.due)
    scenario.claim_plan, scenario.batch_plan = explain(batch)


# --- Report ----------------------------------------------------------------------------------------------------


def server_facts() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0]
        settings = []
        for name in ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "synchronous_commit"):
            cursor.execute(f"SHOW {name}")
            settings.append(f"{name}={cursor.fetchone()[0]}")
    return [f"server: {version}", "settings: " + ", ".join(settings), f"cores: {os.cpu_count()}"]


def plan_summary(plan: str) -> str:
    """Execution time, audit-trigger time and the top node's buffers (and any sort) of one EXPLAIN ANALYZE."""
    facts = []
    for pattern in (r"Execution Time: [\d.]+ ms", r"Trigger clocks_deadline_audit on \S+: time=[\d.]+ calls=\d+",
                    r"Buffers: [^\n]+", r"(?:Index|Bitmap Index) Scan (?:using|on) "
                    r"(?:stage_pending_fire_at|outbox_pending|bench_outbox_pending_id)"):
        match = re.search(pattern, plan)
        if match:
            facts.append(match.group(0).strip())
    facts += [" ".join(sort.split()) for sort in re.findall(r"Sort Method: [^\n]+", plan)]
    return "; ".join(facts)


def report(scenarios: list[Scenario], args: argparse.Namespace, batch: int, total_s: float) -> None:
    header = ["scenario", "open deadlines", "pending stages", "idle sweep ms", "due stages", "sweep s", "notifications",
              "sweep µs / due stage", "delivery s", "delivery ms / e-mail", "audit events"]
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in scenarios:
        sweep_s, delivery_s = s.median("sweep_s"), s.median("delivery_s")
        notifications = int(s.median("notifications"))
        table.append("| " + " | ".join([
            s.name, f"{s.open:,}", f"{s.pending:,}", f"{s.median('idle_sweep_s') * 1e3:.2f}", f"{s.due:,}",
            f"{sweep_s:.3f}", f"{notifications:,}",
            f"{sweep_s / s.due * 1e6:.0f}", f"{delivery_s:.3f}", f"{delivery_s / max(notifications, 1) * 1e3:.2f}",
            f"{int(s.median('audit_events')):,}",
        ]) + " |")
    by_name = {s.name: s for s in scenarios}
    large, baseline = by_name["large"], by_name["baseline"]
    ratios = [
        f"idle sweep (nothing due) large / baseline: "
        f"{large.median('idle_sweep_s') / baseline.median('idle_sweep_s'):.2f}",
        f"sweep ratio large / baseline (same {large.due:,} due stages, {large.open:,} vs {baseline.open:,} open): "
        f"{large.median('sweep_s') / baseline.median('sweep_s'):.2f}",
        f"delivery ratio large / baseline (same notifications): "
        f"{large.median('delivery_s') / baseline.median('delivery_s'):.2f}",
    ]
    if "literal" in by_name:
        literal = by_name["literal"]
        per = [(x.median("sweep_s") / x.due, x.median("delivery_s") / max(x.median("notifications"), 1))
               for x in (large, literal)]
        ratios += [
            f"literal ({literal.open:,} open, {literal.due:,} due): sweep {literal.median('sweep_s'):.4f} s; "
            f"large / literal = {large.median('sweep_s') / literal.median('sweep_s'):.0f}x for "
            f"{large.due / literal.due:.0f}x the due stages",
            f"per due stage large / literal: sweep {per[0][0] / per[1][0]:.2f}, "
            f"delivery per e-mail {per[0][1] / per[1][1]:.2f}",
        ]
    lines = [
        f"# Clock sweep bench, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, database {args.db}",
        *server_facts(),
        f"sweep batch {batch}; median of {args.repeat} runs per scenario; schema as migrated",
        f"every due stage is a 'due' point whose audience (owner organization, roles {', '.join(QA_ROLES)}) has "
        "one active member: one notification per due stage",
        "", *table, "", *ratios,
        "", "runs (sweep s / delivery s): " + "; ".join(
            f"{s.name}: " + ", ".join(f"{r.sweep_s:.3f}/{r.delivery_s:.3f}" for r in s.runs) for s in scenarios),
    ]
    lines += ["", "EXPLAIN (ANALYZE, BUFFERS) summaries (full plans of the large scenario below):"]
    for s in scenarios:
        lines += [f"  {s.name}: sweep claim query: {plan_summary(s.claim_plan)}",
                  f"  {s.name}: one whole sweep batch: {plan_summary(s.batch_plan)}",
                  f"  {s.name}: delivery claim, whole outbox pending: {plan_summary(s.outbox_plan)}"]
    for title, plan in (("sweep claim query", large.claim_plan),
                        ("one whole sweep batch statement (rolled back)", large.batch_plan),
                        ("delivery claim query with the whole outbox pending (rolled back)", large.outbox_plan)):
        lines += ["", f"--- EXPLAIN (ANALYZE, BUFFERS) {title}, {large.name} ---", plan]
    lines += ["", f"total {total_s:.0f} s"]
    print("\n".join(lines))


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    point_at_bench_database(args)
    setup_django()
    from django.conf import settings

    from clocks.sweep import BATCH

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    batch = args.batch or BATCH
    orgs = prepare_database(args.db)
    scenarios = []
    if not args.no_literal:
        literal_due = max(1, round(args.due * args.baseline_open / args.open))
        scenarios.append(Scenario("literal", args.baseline_open, literal_due))
    scenarios += [Scenario("baseline", args.baseline_open + args.due, args.due),
                  Scenario("large", args.open, args.due)]
    for scenario in scenarios:
        measure(scenario, orgs, args, batch)
    report(scenarios, args, batch, time.perf_counter() - began)
    if args.drop:
        drop_bench_database(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
