"""The role → capability matrix, pinned: changing what a role may do must change this test."""

from tenants.permissions import ROLE_CAPABILITIES, Capability, Role, can
from tests.factories import MembershipFactory

EXPECTED = {
    Role.ORG_ADMIN: {"view", "export", "manage_members", "manage_master_data", "grant_access", "view_audit_trail"},
    Role.QA_APPROVER: {"view", "export", "manage_master_data", "record_operations", "author_quality_records",
                       "review_quality_records", "approve_quality_records", "grant_access", "view_audit_trail"},
    Role.QA_REVIEWER: {"view", "export", "record_operations", "author_quality_records", "review_quality_records",
                       "view_audit_trail"},
    Role.OPERATOR: {"view", "record_operations"},
    Role.AUDITOR: {"view", "export", "view_audit_trail"},
    Role.VIEWER: {"view"},
}


def test_matrix():
    assert set(ROLE_CAPABILITIES) == set(Role.values)
    for role, caps in EXPECTED.items():
        assert {c.value for c in ROLE_CAPABILITIES[role]} == caps, role


def test_inactive_or_missing_membership_can_nothing(db):
    membership = MembershipFactory(role=Role.QA_APPROVER, is_active=False)
    assert not can(membership, Capability.VIEW)
    assert not can(None, Capability.VIEW)
