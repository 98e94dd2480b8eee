"""What each role may do: the one place where roles map to capabilities.

Views and services ask ``can(membership, Capability.X)``; no code compares role names elsewhere. Changing what a
role may do is a one-line change here, and ``tests/tenants/test_permissions.py`` pins the matrix.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.db import models

if TYPE_CHECKING:
    from tenants.models import Membership


class Role(models.TextChoices):
    ORG_ADMIN = "org_admin", "Org admin"
    QA_APPROVER = "qa_approver", "QA approver"
    QA_REVIEWER = "qa_reviewer", "QA reviewer"
    OPERATOR = "operator", "Operator"
    AUDITOR = "auditor", "Auditor"
    VIEWER = "viewer", "Viewer"


class Capability(StrEnum):
    VIEW = "view"
    """Read what the organization may see."""
    EXPORT = "export"
    """Download lists and evidence (CSV, PDF)."""
    MANAGE_MEMBERS = "manage_members"
    """Change members' roles, deactivate members."""
    MANAGE_MASTER_DATA = "manage_master_data"
    """Create and edit the organization's sites and products."""
    RECORD_OPERATIONS = "record_operations"
    """Record batch data and first-line deviation reports."""
    AUTHOR_QUALITY_RECORDS = "author_quality_records"
    """Write deviations, CAPA, change controls, inspections, comments and queries."""
    REVIEW_QUALITY_RECORDS = "review_quality_records"
    """Review quality records and their audit trails; sign with meaning 'reviewed'."""
    APPROVE_QUALITY_RECORDS = "approve_quality_records"
    """Approve, release, certify and close; sign with those meanings."""
    VIEW_AUDIT_TRAIL = "view_audit_trail"
    """Search, read and export the audit trail of what the organization can see."""
    GRANT_ACCESS = "grant_access"
    """Give (and revoke) time-boxed view access to the organization's data to a named membership."""


_READ = frozenset({Capability.VIEW})
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ORG_ADMIN: frozenset({Capability.VIEW, Capability.EXPORT, Capability.MANAGE_MEMBERS,
                               Capability.MANAGE_MASTER_DATA, Capability.GRANT_ACCESS, Capability.VIEW_AUDIT_TRAIL}),
    Role.QA_APPROVER: frozenset({Capability.VIEW, Capability.EXPORT, Capability.MANAGE_MASTER_DATA,
                                 Capability.RECORD_OPERATIONS, Capability.AUTHOR_QUALITY_RECORDS,
                                 Capability.REVIEW_QUALITY_RECORDS, Capability.APPROVE_QUALITY_RECORDS,
                                 Capability.GRANT_ACCESS, Capability.VIEW_AUDIT_TRAIL}),
    Role.QA_REVIEWER: frozenset({Capability.VIEW, Capability.EXPORT, Capability.RECORD_OPERATIONS,
                                 Capability.AUTHOR_QUALITY_RECORDS, Capability.REVIEW_QUALITY_RECORDS,
                                 Capability.VIEW_AUDIT_TRAIL}),
    Role.OPERATOR: frozenset({Capability.VIEW, Capability.RECORD_OPERATIONS}),
    Role.AUDITOR: frozenset({Capability.VIEW, Capability.EXPORT, Capability.VIEW_AUDIT_TRAIL}),
    Role.VIEWER: _READ,
}


def capabilities_of(role: str) -> frozenset[Capability]:
    return ROLE_CAPABILITIES.get(role, frozenset())


def can(membership: Membership | None, capability: Capability) -> bool:
    """True when an active membership's role grants ``capability``. No membership grants nothing."""
    if membership is None or not membership.is_active:
        return False
    return capability in capabilities_of(membership.role)
