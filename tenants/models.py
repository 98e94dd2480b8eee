"""Organizations, their sites and products, the partnerships between them, and who acts for whom.

Every tenant-owned row names its owner organization in a column called ``organization`` (or, for the
two-sided Partnership, ``sponsor`` and ``cmo``); scoping selectors and, later, row-level security key on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.fields import ArrayField
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from guardian.models import UserObjectPermissionBase

from tenants.permissions import Role


class User(AbstractUser):
    """A person. Part 11 signatures print ``printed_name``; e-mail is unique so people can log in with it."""

    email = models.EmailField("e-mail address", blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), condition=~Q(email=""), name="user_email_unique_ci"),
        ]

    @property
    def printed_name(self) -> str:
        return self.get_full_name() or self.username


class Organization(models.Model):
    class Kind(models.TextChoices):
        SPONSOR = "sponsor", "Sponsor"
        CMO = "cmo", "CMO / CDMO"
        BOTH = "both", "Sponsor and CMO"

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=50, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    is_active = models.BooleanField(default=True)
    require_second_factor = models.BooleanField(
        default=False, help_text="QA approvers must log in with a second factor (TOTP) to act for this organization"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    owner_field = "self"  # an organization owns its own row (its admin may change its settings)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_sponsor(self) -> bool:
        return self.kind in {self.Kind.SPONSOR, self.Kind.BOTH}

    @property
    def is_cmo(self) -> bool:
        return self.kind in {self.Kind.CMO, self.Kind.BOTH}


class Site(models.Model):
    """A manufacturing or testing site of a CMO; inspections and batches happen at a site."""

    class Activity(models.TextChoices):
        API = "api", "API manufacture"
        DRUG_PRODUCT = "drug_product", "Drug product manufacture"
        STERILE_FILL = "sterile_fill", "Sterile fill-finish"
        BIOLOGICS = "biologics", "Biologics drug substance"
        PACKAGING = "packaging", "Packaging and labelling"
        TESTING = "testing", "QC testing"
        STORAGE = "storage", "Storage and distribution"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="sites")
    name = models.CharField(max_length=200)
    fei_number = models.CharField(
        "FEI number",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^\d{1,10}$", "An FEI number is 1 to 10 digits.")],
        help_text="FDA Establishment Identifier (up to 10 digits)",
    )
    country = models.CharField(
        max_length=2,
        validators=[RegexValidator(r"^[A-Z]{2}$", "Use the two-letter ISO 3166-1 code in capitals, e.g. US.")],
        help_text="ISO 3166-1 alpha-2 code, e.g. US, IE, CA",
    )
    address = models.TextField(blank=True)
    activities = ArrayField(models.CharField(max_length=20, choices=Activity.choices), default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False,
                                          help_text="Optimistic concurrency: +1 on every change")

    owner_field = "organization"

    class Meta:
        ordering = ["organization__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"], name="site_name_unique_per_org",
                violation_error_code="duplicate_site_name",
                violation_error_message="Your organization already has a site with this name.",
            )
        ]

    #: Which form field a constraint error belongs to (see qms.validation.full_clean_by_field).
    constraint_fields = {"duplicate_site_name": "name"}

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A sponsor's product; CMO records point at products, and through them at exactly one sponsor."""

    class Modality(models.TextChoices):
        SMALL_MOLECULE = "small_molecule", "Small molecule"
        BIOLOGIC = "biologic", "Biologic"
        ATMP = "atmp", "ATMP (cell / gene therapy)"

    class Market(models.TextChoices):
        US = "US", "United States"
        EU = "EU", "European Union"
        UK = "UK", "United Kingdom"
        CA = "CA", "Canada"
        JP = "JP", "Japan"
        CH = "CH", "Switzerland"
        AU = "AU", "Australia"

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    code = models.CharField(max_length=30)
    dosage_form = models.CharField(max_length=100)
    modality = models.CharField(max_length=20, choices=Modality.choices)
    markets = ArrayField(models.CharField(max_length=2, choices=Market.choices), default=list, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False,
                                          help_text="Optimistic concurrency: +1 on every change")

    owner_field = "organization"

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "code"], name="product_code_unique_per_org",
                violation_error_code="duplicate_product_code",
                violation_error_message="Your organization already has a product with this code.",
            )
        ]

    constraint_fields = {"duplicate_product_code": "code"}

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Partnership(models.Model):
    """A sponsor–CMO relationship: the channel through which a sponsor sees CMO records (DESIGN.md §3.1)."""

    class Stage(models.TextChoices):
        QUALIFICATION = "qualification", "Qualification"
        TECH_TRANSFER = "tech_transfer", "Technology transfer"
        ROUTINE = "routine", "Routine supply"
        EXIT = "exit", "Exit"

    class Tier(models.IntegerChoices):
        TIER_1 = 1, "Tier 1"
        TIER_2 = 2, "Tier 2"
        TIER_3 = 3, "Tier 3"

    sponsor = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="sponsor_partnerships")
    cmo = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="cmo_partnerships")
    sites = models.ManyToManyField(Site, related_name="partnerships", blank=True)
    products = models.ManyToManyField(Product, related_name="partnerships", blank=True)
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.QUALIFICATION)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.TIER_2)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sponsor__name", "cmo__name"]
        constraints = [
            models.UniqueConstraint(fields=["sponsor", "cmo"], name="partnership_unique_pair"),
            models.CheckConstraint(condition=~Q(sponsor=models.F("cmo")), name="partnership_distinct_parties"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="partnership_end_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sponsor} ↔ {self.cmo}"

    def clean(self) -> None:
        errors = {}
        if self.sponsor_id and not self.sponsor.is_sponsor:
            errors["sponsor"] = "The sponsor side must be a sponsor organization."
        if self.cmo_id and not self.cmo.is_cmo:
            errors["cmo"] = "The CMO side must be a CMO organization."
        if errors:
            raise ValidationError(errors)


class Membership(models.Model):
    """A user acting for one organization in one role. Everything a request may do follows from this row."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    owner_field = "organization"

    class Meta:
        ordering = ["organization__name", "user__username"]
        constraints = [models.UniqueConstraint(fields=["user", "organization"], name="membership_unique_user_org")]

    def __str__(self) -> str:
        return f"{self.user.username}@{self.organization.slug} ({self.get_role_display()})"


def hash_token(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class MembershipToken(models.Model):
    """An API token bound to one membership, so it acts within exactly one organization.

    Only the SHA-256 of the key is stored: a database read does not yield usable credentials.
    """

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="First characters of the key, to recognise it in lists")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… for {self.membership}"

    @staticmethod
    def new_key() -> tuple[str, str]:
        key = secrets.token_urlsafe(32)
        return key, hash_token(key)


class AccessGrantQuerySet(models.QuerySet["AccessGrant"]):
    def live(self, at: dt.datetime | None = None) -> AccessGrantQuerySet:
        """Grants in force now: started, not expired, not revoked. Lookups use this, not the expiry task."""
        moment = at or timezone.now()
        return self.filter(revoked_at__isnull=True, starts_at__lte=moment, expires_at__gt=moment)


class AccessGrant(models.Model):
    """Time-boxed view access for one membership (an auditor, a person-in-plant) to a partnership.

    Owned by the granting organization, which for a partnership is always the sponsor: a partnership reveals
    the sponsor's products, so only the sponsor may show it to a third party. The grantee reads, never writes.
    Lookups (selectors and row-level security) ignore grants outside [starts_at, expires_at) at once; the
    periodic task ``tenants.tasks.expire_access_grants`` then marks them expired and removes the guardian
    permission.
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="access_grants")
    grantor = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="grants_given")
    grantor_label = models.CharField(max_length=200, help_text="Printed name and organization of the grantor, "
                                     "for the grantee, who cannot see the grantor's membership")
    grantee = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="grants_held")
    grantee_label = models.CharField(max_length=200, help_text="username@organization, kept for the grantor's "
                                     "list: the grantee's membership belongs to another organization")
    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="access_grants")
    reason = models.TextField()
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(Membership, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="grants_revoked")
    expired_at = models.DateTimeField(null=True, blank=True, help_text="When the expiry task retired it")

    owner_field = "organization"
    objects = AccessGrantQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("starts_at")), name="grant_ends_after_start",
                                   violation_error_code="grant_window",
                                   violation_error_message="The grant must expire after it starts."),
        ]
        indexes = [
            models.Index(fields=["grantee", "partnership"], name="grant_grantee_partnership"),
            models.Index(fields=["expires_at"], condition=Q(expired_at__isnull=True), name="grant_pending_expiry"),
        ]

    constraint_fields = {"grant_window": "expires_at"}

    def __str__(self) -> str:
        return f"{self.grantee_label} → {self.partnership} until {self.expires_at:%Y-%m-%d %H:%M} UTC"

    def is_live(self, at: dt.datetime | None = None) -> bool:
        moment = at or timezone.now()
        return self.revoked_at is None and self.starts_at <= moment < self.expires_at


class PartnershipUserObjectPermission(UserObjectPermissionBase):
    """django-guardian's direct-foreign-key permission table for partnership grants (fast, FK-checked)."""

    content_object = models.ForeignKey(Partnership, on_delete=models.CASCADE)


class UserSession(AbstractBaseSession):
    """Django's database session, plus the user it belongs to: deactivating a user deletes their sessions at once."""

    user_id = models.BigIntegerField(null=True, db_index=True)

    @classmethod
    def get_session_store_class(cls) -> type:
        from tenants.sessions import SessionStore

        return SessionStore


class SecurityEvent(models.Model):
    """Append-only record of security-relevant acts that are not record changes: unlocks, lockouts, grants.

    Rows are only ever inserted (row-level security has no UPDATE or DELETE path for anyone but the system
    context). The Part 11 audit trail (issue 4) will take these over into its hash-chained event table.
    """

    class Kind(models.TextChoices):
        ACCOUNT_UNLOCKED = "account_unlocked", "Account unlocked"
        ACCESS_GRANTED = "access_granted", "Access granted"
        ACCESS_REVOKED = "access_revoked", "Access revoked"
        ACCESS_EXPIRED = "access_expired", "Access expired"
        SESSIONS_ENDED = "sessions_ended", "Sessions and tokens ended"
        SECOND_FACTOR_POLICY = "second_factor_policy", "Second-factor requirement changed"
        SIGNATURE_FAILED = "signature_failed", "Failed signature attempt"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="security_events")
    actor = models.ForeignKey(User, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    subject = models.CharField(max_length=200, help_text="Who or what the act concerned")
    reason = models.TextField(blank=True)
    detail = models.JSONField(default=dict, blank=True)

    owner_field = "organization"

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_kind_display()}: {self.subject}"


class StoredFile(models.Model):
    """An uploaded file attached to a regulated record, stored once under its SHA-256 (tenants/files.py).

    ``record_table``/``record_id`` name the owning record; the file is visible exactly where that record is
    (row-level security asks the record's own table, see migration 0009). Nothing here is ever edited.
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="files")
    record_table = models.CharField(max_length=63)
    record_id = models.BigIntegerField()
    original_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, db_index=True)
    size = models.PositiveBigIntegerField()
    mime_type = models.CharField(max_length=100)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    owner_field = "organization"

    class Meta:
        ordering = ["-uploaded_at"]
        indexes = [models.Index(fields=["record_table", "record_id"], name="file_record")]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.sha256[:12]}…)"


class RecordCounter(models.Model):
    """The last number an organization issued per kind and year (DEV-2026-0042): see ``tenants.numbering``."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=20, help_text="Prefix and year, e.g. DEV-2026")
    last = models.PositiveIntegerField(default=0)

    owner_field = "organization"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="record_counter_once")]

    def __str__(self) -> str:
        return f"{self.key}: {self.last}"
