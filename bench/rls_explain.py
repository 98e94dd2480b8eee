"""Measure what the row-level-security policies cost on the main tenancy list queries.

Usage (with the services of ``python -m qms.devstack services`` exported, see docs/rls-performance.md)::

    python bench/rls_explain.py [--sponsors 200 --cmos 100 --sites-per-cmo 20 --products-per-sponsor 25
                                 --partnerships-per-sponsor 10 --repeat 20 --superuser postgres]

It (1) deletes any earlier ``bench-`` data and generates a fresh, set-based data set under
``rls.system_context``, (2) ANALYZEs the tables as the owner role, (3) for one sponsor and one CMO membership
runs each selector's SQL (a) acting as that membership under RLS and (b) under ``rls.system_context`` (every
policy short-circuits on ``qms_system()``: the explicit-filter-only baseline), optionally (c) as a role that
bypasses RLS altogether (``--superuser``), and (4) prints a Markdown table and writes every
``EXPLAIN (ANALYZE, BUFFERS)`` plan to ``--out``.

Timings are medians of ``--repeat`` executions of the selector's compiled SQL (execute + fetchall on the raw
DB-API cursor, so neither Django's model construction nor its query logging is in the number), after
``--warmup`` unmeasured runs. "ORM" columns time ``list(selector(...))`` including prefetches.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
PREFIX = "bench-"
TABLES = (
    "tenants_organization", "tenants_site", "tenants_product", "tenants_partnership", "tenants_partnership_sites",
    "tenants_partnership_products", "tenants_membership", "tenants_user", "tenants_accessgrant",
)
#: (table, column) pairs that the SELECT policies (and the selectors) filter or join on.
POLICY_COLUMNS = (
    ("tenants_organization", "id"),
    ("tenants_site", "organization_id"),
    ("tenants_product", "organization_id"),
    ("tenants_partnership", "sponsor_id"),
    ("tenants_partnership", "cmo_id"),
    ("tenants_partnership_sites", "partnership_id"),
    ("tenants_partnership_sites", "site_id"),
    ("tenants_partnership_products", "partnership_id"),
    ("tenants_partnership_products", "product_id"),
    ("tenants_membership", "user_id"),
    ("tenants_membership", "organization_id"),
    ("tenants_accessgrant", "grantee_id"),
    ("tenants_accessgrant", "organization_id"),
)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sponsors", type=int, default=200)
    parser.add_argument("--cmos", type=int, default=100)
    parser.add_argument("--sites-per-cmo", type=int, default=20)
    parser.add_argument("--products-per-sponsor", type=int, default=25)
    parser.add_argument("--partnerships-per-sponsor", type=int, default=10,
                        help="distinct CMOs per sponsor (sponsors x this = partnerships)")
    parser.add_argument("--sites-per-partnership", type=int, default=2)
    parser.add_argument("--products-per-partnership", type=int, default=3)
    parser.add_argument("--users-per-org", type=int, default=5)
    parser.add_argument("--grants", type=int, default=300, help="access grants to third-party memberships")
    parser.add_argument("--repeat", type=int, default=20, help="timed executions per query and mode")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20260101)
    parser.add_argument("--keep", action="store_true", help="reuse existing bench data instead of regenerating")
    parser.add_argument("--sponsor-slug", help="act for this sponsor organization (default: the median one)")
    parser.add_argument("--cmo-slug", help="act for this CMO organization (default: the median one)")
    parser.add_argument("--superuser", metavar="ROLE",
                        help="also measure with no RLS at all, connecting as ROLE (superuser or BYPASSRLS) "
                             "to the same database, e.g. postgres for the embedded server")
    parser.add_argument("--out", type=Path, default=BASE_DIR / "bench" / "results" / "rls_explain.txt",
                        help="where to write the table and the full EXPLAIN outputs")
    return parser.parse_args(argv)


def setup_django(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "qms.settings")
    import django
    from django.conf import settings

    if args.superuser:
        # A second alias to the same database as a role that RLS does not apply to (configured before any
        # connection is opened, so Django fills in its defaults).
        settings.DATABASES["norls"] = {**settings.DATABASES["default"], "USER": args.superuser, "PASSWORD": ""}
    django.setup()
    import logging

    logging.getLogger("qms.security").setLevel(logging.WARNING)  # one "system context entered" line per query


# --- Data generation -----------------------------------------------------------------------------------------


def delete_bench_data() -> None:
    """Remove earlier bench rows with plain SQL on the tenancy tables only (no ORM cascade into other apps)."""
    from django.db import connection, transaction

    from tenants import rls

    with transaction.atomic(), rls.system_context("bench: delete prior bench data"), connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(array_agg(id), '{}') FROM tenants_organization WHERE slug LIKE %s",
                       [PREFIX + "%"])
        orgs = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(array_agg(id), '{}') FROM tenants_membership WHERE organization_id = ANY(%s)",
                       [orgs])
        members = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(array_agg(id), '{}') FROM tenants_partnership "
                       "WHERE sponsor_id = ANY(%s) OR cmo_id = ANY(%s)", [orgs, orgs])
        partnerships = cursor.fetchone()[0]
        for sql, params in (
            ("DELETE FROM tenants_accessgrant WHERE organization_id = ANY(%s) OR partnership_id = ANY(%s) "
             "OR grantee_id = ANY(%s) OR grantor_id = ANY(%s) OR revoked_by_id = ANY(%s)",
             [orgs, partnerships, members, members, members]),
            ("DELETE FROM tenants_partnershipuserobjectpermission WHERE content_object_id = ANY(%s)", [partnerships]),
            ("DELETE FROM tenants_partnership_sites WHERE partnership_id = ANY(%s)", [partnerships]),
            ("DELETE FROM tenants_partnership_products WHERE partnership_id = ANY(%s)", [partnerships]),
            ("DELETE FROM tenants_partnership WHERE id = ANY(%s)", [partnerships]),
            ("DELETE FROM tenants_membershiptoken WHERE membership_id = ANY(%s)", [members]),
            ("DELETE FROM tenants_membership WHERE id = ANY(%s)", [members]),
            ("DELETE FROM tenants_user WHERE username LIKE %s", [PREFIX + "%"]),
            ("DELETE FROM tenants_site WHERE organization_id = ANY(%s)", [orgs]),
            ("DELETE FROM tenants_product WHERE organization_id = ANY(%s)", [orgs]),
            ("DELETE FROM tenants_organization WHERE id = ANY(%s)", [orgs]),
        ):
            cursor.execute(sql, params)


def generate(args: argparse.Namespace) -> dict[str, int]:
    from django.db import transaction
    from django.utils import timezone

    from tenants import rls
    from tenants.models import AccessGrant, Membership, Organization, Partnership, Product, Site, User
    from tenants.permissions import Role

    rng = random.Random(args.seed)
    activities = [choice.value for choice in Site.Activity]
    markets = [choice.value for choice in Product.Market]
    modalities = [choice.value for choice in Product.Modality]
    roles = [Role.ORG_ADMIN, Role.QA_APPROVER, Role.QA_REVIEWER, Role.OPERATOR, Role.VIEWER]
    today = dt.date.today()
    now = timezone.now()

    with transaction.atomic(), rls.system_context("bench: generate data"):
        sponsors = Organization.objects.bulk_create(
            Organization(name=f"Bench Sponsor {i:04d}", slug=f"{PREFIX}s-{i:04d}", kind=Organization.Kind.SPONSOR)
            for i in range(args.sponsors)
        )
        cmos = Organization.objects.bulk_create(
            Organization(name=f"Bench CMO {i:04d}", slug=f"{PREFIX}c-{i:04d}", kind=Organization.Kind.CMO)
            for i in range(args.cmos)
        )
        sites = Site.objects.bulk_create(
            (Site(organization=cmo, name=f"{cmo.name} site {j:03d}", fei_number=str(3000000000 + cmo.pk * 1000 + j),
                  country=rng.choice(["US", "IE", "DE", "IN", "CN", "CA", "CH"]),
                  activities=rng.sample(activities, 2), address=f"{j} Industrial Way")
             for cmo in cmos for j in range(args.sites_per_cmo)),
            batch_size=2000,
        )
        products = Product.objects.bulk_create(
            (Product(organization=sponsor, name=f"Compound {sponsor.pk}-{j}", code=f"BX-{j:03d}",
                     dosage_form=rng.choice(["Tablet", "Capsule", "Injection", "Lyophilisate"]),
                     modality=rng.choice(modalities), markets=rng.sample(markets, 2))
             for sponsor in sponsors for j in range(args.products_per_sponsor)),
            batch_size=2000,
        )
        sites_of: dict[int, list[Site]] = {}
        for site in sites:
            sites_of.setdefault(site.organization_id, []).append(site)
        products_of: dict[int, list[Product]] = {}
        for product in products:
            products_of.setdefault(product.organization_id, []).append(product)

        per_sponsor = min(args.partnerships_per_sponsor, len(cmos))
        partnerships = Partnership.objects.bulk_create(
            (Partnership(sponsor=sponsor, cmo=cmo, stage=rng.choice(list(Partnership.Stage.values)),
                         tier=rng.choice([1, 2, 3]), start_date=today - dt.timedelta(days=rng.randint(30, 2000)))
             for sponsor in sponsors for cmo in rng.sample(cmos, per_sponsor)),
            batch_size=2000,
        )
        through_s, through_p = Partnership.sites.through, Partnership.products.through
        site_links = through_s.objects.bulk_create(
            (through_s(partnership_id=p.pk, site_id=s.pk) for p in partnerships
             for s in rng.sample(sites_of[p.cmo_id], min(args.sites_per_partnership, len(sites_of[p.cmo_id])))),
            batch_size=5000,
        )
        product_links = through_p.objects.bulk_create(
            (through_p(partnership_id=p.pk, product_id=x.pk) for p in partnerships
             for x in rng.sample(products_of[p.sponsor_id],
                                 min(args.products_per_partnership, len(products_of[p.sponsor_id])))),
            batch_size=5000,
        )

        orgs = [*sponsors, *cmos]
        users = User.objects.bulk_create(
            (User(username=f"{org.slug}-u{k}", first_name="Bench", last_name=f"User {k}", password="!bench")
             for org in orgs for k in range(args.users_per_org)),
            batch_size=2000,
        )
        memberships = Membership.objects.bulk_create(
            (Membership(user=user, organization=org, role=roles[k % len(roles)])
             for index, org in enumerate(orgs)
             for k, user in enumerate(users[index * args.users_per_org:(index + 1) * args.users_per_org])),
            batch_size=2000,
        )
        admin_of = {m.organization_id: m for m in memberships if m.role == Role.ORG_ADMIN}
        grants = []
        for _ in range(args.grants):
            partnership = rng.choice(partnerships)
            grantee = rng.choice(memberships)
            if grantee.organization_id in (partnership.sponsor_id, partnership.cmo_id):
                continue
            starts = now - dt.timedelta(days=rng.randint(1, 30))
            grants.append(AccessGrant(
                organization_id=partnership.sponsor_id, grantor=admin_of[partnership.sponsor_id],
                grantor_label="bench", grantee=grantee, grantee_label="bench", partnership=partnership,
                reason="bench", starts_at=starts, expires_at=starts + dt.timedelta(days=rng.choice([7, 60, 90])),
                revoked_at=now if rng.random() < 0.1 else None,
            ))
        AccessGrant.objects.bulk_create(grants, batch_size=2000)

    return {"sponsor organizations": len(sponsors), "CMO organizations": len(cmos), "sites": len(sites),
            "products": len(products), "partnerships": len(partnerships),
            "partnership-site links": len(site_links), "partnership-product links": len(product_links),
            "users / memberships": len(memberships), "access grants": len(grants)}


def analyze() -> None:
    """Fresh statistics, as autovacuum would have them in production (the app role may not ANALYZE)."""
    from django.db import connection

    from qms.dbroles import as_owner

    with as_owner(), connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(TABLES))


def table_counts() -> dict[str, int]:
    """Row counts of the whole tables (bench rows plus anything else in the database)."""
    from django.db import connection, transaction

    from tenants import rls

    with transaction.atomic(), rls.system_context("bench: count rows"), connection.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


# --- Measurement ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    query: str
    actor: str
    mode: str
    rows: int
    sql_ms: list[float]
    orm_ms: list[float]
    plan: str
    extra_plans: list[tuple[str, str]] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.sql_ms)

    @property
    def orm_median(self) -> float:
        return statistics.median(self.orm_ms)


def pick_memberships(args: argparse.Namespace) -> dict[str, Any]:
    """A representative sponsor and CMO: the org_admin of the organization whose partnership count is the median
    (or of the organization named with --sponsor-slug / --cmo-slug)."""
    from django.db import transaction
    from django.db.models import Count

    from tenants import rls
    from tenants.models import Membership, Organization
    from tenants.permissions import Role

    picked = {}
    with transaction.atomic(), rls.system_context("bench: pick memberships"):
        for actor, kind, related, slug in (("sponsor", "sponsor", "sponsor_partnerships", args.sponsor_slug),
                                           ("CMO", "cmo", "cmo_partnerships", args.cmo_slug)):
            if slug:
                org = Organization.objects.get(slug=slug)
            else:
                orgs = list(Organization.objects.filter(slug__startswith=PREFIX, kind=kind)
                            .annotate(n=Count(related)).order_by("n", "pk"))
                org = orgs[len(orgs) // 2]
            picked[actor] = (Membership.objects.select_related("user", "organization")
                             .get(organization=org, role=Role.ORG_ADMIN))
    return picked


def mode_context(mode: str, membership: Any) -> AbstractContextManager[None]:
    from tenants import rls

    if mode == "rls":
        return rls.scoped(rls.Context(user_id=membership.user_id, organization_id=membership.organization_id,
                                      membership_id=membership.pk))
    if mode == "system":
        return rls.system_context("bench: baseline, policies short-circuit")
    return nullcontext()  # "norls": a role that RLS does not apply to


def measure(query: str, actor: str, selector: Callable[..., Any], membership: Any, mode: str,
            args: argparse.Namespace) -> Result:
    from django.db import connections, transaction
    from django.test.utils import CaptureQueriesContext

    alias = "norls" if mode == "norls" else "default"
    connection = connections[alias]
    with transaction.atomic(using=alias), mode_context(mode, membership):
        qs = selector(membership=membership).using(alias)
        sql, params = qs.query.get_compiler(using=alias).as_sql()
        raw = connection.connection.cursor()  # the DB-API cursor, inside this transaction
        try:
            for _ in range(args.warmup):
                raw.execute(sql, params)
                rows = len(raw.fetchall())
            sql_ms = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                raw.execute(sql, params)
                raw.fetchall()
                sql_ms.append((time.perf_counter() - start) * 1000)
        finally:
            raw.close()
        orm_ms = []
        for _ in range(max(3, args.repeat // 2)):
            start = time.perf_counter()
            list(selector(membership=membership).using(alias))
            orm_ms.append((time.perf_counter() - start) * 1000)
        plan = qs.explain(analyze=True, buffers=True)
        extra = []
        if qs._prefetch_related_lookups:
            with CaptureQueriesContext(connection) as captured:
                list(selector(membership=membership).using(alias))
            for executed in captured.captured_queries[1:]:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + executed["sql"])
                    extra.append((executed["sql"], "\n".join(row[0] for row in cursor.fetchall())))
    return Result(query, actor, mode, rows, sql_ms, orm_ms, plan, extra)


def verify_norls(alias: str = "norls") -> None:
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            raise SystemExit("--superuser must name a superuser or BYPASSRLS role")


# --- Index report --------------------------------------------------------------------------------------------


def index_catalogue() -> dict[str, tuple[str, list[str]]]:
    """index name -> (table, [columns]) for the tenancy tables."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT i.relname, t.relname,
                   array(SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(attnum, n)
                         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
            WHERE t.relname = ANY(%s)
            """,
            [list(TABLES)],
        )
        return {name: (table, list(columns)) for name, table, columns in cursor.fetchall()}


INDEX_RE = re.compile(r"(?:Index Scan|Index Only Scan|Bitmap Index Scan)(?: Backward)? (?:using|on) (\S+)")
SEQ_RE = re.compile(r"Seq Scan on (\S+)")


def plan_nodes(plan: str) -> tuple[list[str], list[str]]:
    return sorted(set(INDEX_RE.findall(plan))), sorted(set(SEQ_RE.findall(plan)))


def index_report(catalogue: dict[str, tuple[str, list[str]]]) -> list[str]:
    lines = ["Policy columns and the indexes that lead with them:"]
    for table, column in POLICY_COLUMNS:
        leading = sorted(name for name, (t, cols) in catalogue.items() if t == table and cols and cols[0] == column)
        anywhere = sorted(name for name, (t, cols) in catalogue.items() if t == table and column in cols[1:])
        status = ", ".join(leading) if leading else "NO INDEX LEADS WITH THIS COLUMN"
        if anywhere:
            status += f" (also non-leading in {', '.join(anywhere)})"
        lines.append(f"  {table}.{column}: {status}")
    return lines


# --- Main ----------------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    setup_django(args)
    from tenants import selectors

    began = time.perf_counter()
    volumes: dict[str, int] = {}
    if not args.keep:
        delete_bench_data()
        volumes = generate(args)
        print(f"generated in {time.perf_counter() - began:.1f} s: {volumes}", flush=True)
    analyze()
    counts = table_counts()
    if args.superuser:
        verify_norls()
    picked = pick_memberships(args)
    cases = [
        ("partnership_list", "sponsor"), ("partnership_list", "CMO"),
        ("site_list", "sponsor"), ("site_list", "CMO"),
        ("product_list", "sponsor"), ("product_list", "CMO"),
        ("organization_list", "sponsor"), ("organization_list", "CMO"),
        ("member_list", "sponsor"),
    ]
    modes = ["system", "rls", *(["norls"] if args.superuser else [])]
    results: dict[tuple[str, str, str], Result] = {}
    for query, actor in cases:
        for mode in modes:
            results[query, actor, mode] = measure(query, actor, getattr(selectors, query), picked[actor], mode, args)
        rows = {results[query, actor, mode].rows for mode in modes}
        if len(rows) != 1:
            print(f"WARNING: {query}/{actor} returns different row counts per mode: {rows}", file=sys.stderr)
        print(f"measured {query} / {actor}", flush=True)

    header = ["query", "actor", "rows", "baseline ms (system ctx)", "with RLS ms", "overhead ratio"]
    if args.superuser:
        header += ["no-RLS ms (superuser)", "RLS / no-RLS"]
    header += ["ORM baseline ms", "ORM with RLS ms"]
    table = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for query, actor in cases:
        base, rls_ = results[query, actor, "system"], results[query, actor, "rls"]
        cells = [query, actor, str(rls_.rows), f"{base.median:.2f}", f"{rls_.median:.2f}",
                 f"{rls_.median / base.median:.2f}x"]
        if args.superuser:
            floor = results[query, actor, "norls"]
            cells += [f"{floor.median:.2f}", f"{rls_.median / floor.median:.2f}x"]
        cells += [f"{base.orm_median:.2f}", f"{rls_.orm_median:.2f}"]
        table.append("| " + " | ".join(cells) + " |")

    catalogue = index_catalogue()
    usage = ["Indexes and sequential scans per plan (main query):"]
    for (query, actor, mode), result in results.items():
        used, seq = plan_nodes(result.plan)
        described = [f"{name}({catalogue.get(name, ('?', []))[0]}:{','.join(catalogue.get(name, ('?', []))[1])})"
                     for name in used]
        usage.append(f"  {query}/{actor}/{mode}: index: {', '.join(described) or '-'}; seq scan: "
                     f"{', '.join(seq) or '-'}")
    report = index_report(catalogue)

    summary = [
        f"# RLS EXPLAIN bench, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
        f"actors: sponsor = {picked['sponsor']}, CMO = {picked['CMO']}",
        "table rows: " + ", ".join(f"{t}={n}" for t, n in counts.items()),
        f"timing: median of {args.repeat} runs of the compiled SQL (execute + fetchall), {args.warmup} warm-up runs",
        "", *table, "", *report, "", *usage,
    ]
    print("\n".join(summary))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w") as out:
        out.write("\n".join(summary) + "\n")
        for (query, actor, mode), result in results.items():
            out.write(f"\n\n===== {query} / {actor} / {mode} ({result.rows} rows, median {result.median:.2f} ms, "
                      f"runs ms: {', '.join(f'{v:.2f}' for v in result.sql_ms)}) =====\n")
            out.write(result.plan + "\n")
            for sql, plan in result.extra_plans:
                out.write(f"\n--- prefetch query ---\n{sql}\n{plan}\n")
    print(f"\nfull EXPLAIN output: {args.out}; total {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
