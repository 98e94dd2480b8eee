"""factory_boy factories and the cast builder: the demo cast of ``tenants.demo``, built fresh for each test."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

import factory
from django.contrib.auth.hashers import make_password

from tenants import demo
from tenants.models import Membership, Organization, Partnership, Product, Site, User
from tenants.permissions import Role

PASSWORD = "correct-horse-battery-staple"


@cache
def password_hash() -> str:
    """One real argon2 hash, computed once per test session: the cast logs in with argon2, quickly."""
    return make_password(PASSWORD)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    kind = Organization.Kind.CMO


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    organization = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.CMO)
    name = factory.Sequence(lambda n: f"Site {n}")
    country = "US"
    fei_number = factory.Sequence(lambda n: f"{3000000000 + n}")
    activities = factory.LazyFunction(lambda: ["drug_product"])


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    organization = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.SPONSOR)
    code = factory.Sequence(lambda n: f"PRD-{n:03d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    dosage_form = "Tablet"
    modality = Product.Modality.SMALL_MOLECULE
    markets = factory.LazyFunction(lambda: ["US"])


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership

    sponsor = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.SPONSOR)
    cmo = factory.SubFactory(OrganizationFactory, kind=Organization.Kind.CMO)
    stage = Partnership.Stage.ROUTINE
    tier = 2
    start_date = dt.date(2024, 1, 1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Test"
    last_name = factory.LazyAttribute(lambda u: u.username.title())
    password = factory.LazyFunction(password_hash)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)
    role = Role.QA_APPROVER


@dataclass
class Cast:
    """The fixed cast. ``cast.users["acme.qa"]``, ``cast.orgs["helix"]``, ``cast.partnership("helix", "acme")``."""

    orgs: dict[str, Organization] = field(default_factory=dict)
    sites: dict[str, Site] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    partnerships: dict[tuple[str, str], Partnership] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    memberships: dict[str, Membership] = field(default_factory=dict)

    def partnership(self, sponsor: str, cmo: str) -> Partnership:
        return self.partnerships[(sponsor, cmo)]


def build_cast() -> Cast:
    cast = Cast()
    for org in demo.ORGANIZATIONS:
        cast.orgs[org.slug] = OrganizationFactory(slug=org.slug, name=org.name, kind=org.kind)
    for spec in demo.SITES:
        cast.sites[spec.name] = SiteFactory(
            organization=cast.orgs[spec.org], name=spec.name, country=spec.country, fei_number=spec.fei_number,
            address=spec.address, activities=list(spec.activities),
        )
    for spec in demo.PRODUCTS:
        cast.products[spec.code] = ProductFactory(
            organization=cast.orgs[spec.org], code=spec.code, name=spec.name, dosage_form=spec.dosage_form,
            modality=spec.modality, markets=list(spec.markets),
        )
    for spec in demo.PARTNERSHIPS:
        partnership = PartnershipFactory(
            sponsor=cast.orgs[spec.sponsor], cmo=cast.orgs[spec.cmo], stage=spec.stage, tier=spec.tier,
            start_date=spec.start_date,
        )
        partnership.sites.set([cast.sites[name] for name in spec.sites])
        partnership.products.set([cast.products[code] for code in spec.products])
        cast.partnerships[(spec.sponsor, spec.cmo)] = partnership
    for spec in demo.USERS:
        user = UserFactory(username=spec.username, first_name=spec.first_name, last_name=spec.last_name,
                           email=spec.email)
        cast.users[spec.username] = user
        cast.memberships[spec.username] = MembershipFactory(user=user, organization=cast.orgs[spec.org],
                                                            role=spec.role)
    return cast
