"""Cross-tenant 404, partner read-only 403 and wrong-role 403 for every tenancy API endpoint."""

from tests.factories import Cast
from tests.isolation import OwnerWriteAPICases, PartnerReadOnlyAPICases, ScopedAPICases, WrongRoleAPICases


class TestSiteAPI(ScopedAPICases, PartnerReadOnlyAPICases, WrongRoleAPICases, OwnerWriteAPICases):
    basename = "site"
    owner, partner, outsider, wrong_role = "acme.qa", "helix.qa", "borealis.qa", "acme.operator"
    patch = {"address": "1 New Street, Boston, MA", "version": 1, "reason": "site moved"}

    def make_object(self, cast: Cast):
        return cast.sites["Acme Boston"]


class TestSiteOutOfScopeForOtherSponsor(ScopedAPICases):
    """Northwind partners with Acme, but Acme Boston is not in that partnership's scope."""

    basename = "site"
    owner, outsider = "acme.qa", "northwind.qa"

    def make_object(self, cast: Cast):
        return cast.sites["Acme Boston"]


class TestProductAPI(ScopedAPICases, PartnerReadOnlyAPICases, WrongRoleAPICases, OwnerWriteAPICases):
    basename = "product"
    owner, partner, outsider, wrong_role = "helix.qa", "acme.qa", "northwind.qa", "helix.viewer"
    patch = {"dosage_form": "Film-coated tablet, 100 mg", "version": 1, "reason": "new strength"}

    def make_object(self, cast: Cast):
        return cast.products["HLX-101"]


class TestProductHiddenFromOtherCMO(ScopedAPICases):
    basename = "product"
    owner, outsider = "northwind.qa", "borealis.qa"  # Borealis makes NWB-9, not NWB-7

    def make_object(self, cast: Cast):
        return cast.products["NWB-7"]


class TestPartnershipAPI(ScopedAPICases, PartnerReadOnlyAPICases, WrongRoleAPICases):
    basename = "partnership"
    owner, partner, outsider, wrong_role = "acme.qa", "helix.qa", "northwind.qa", "acme.operator"
    patch = {"tier": 3}

    def make_object(self, cast: Cast):
        return cast.partnership("helix", "acme")


class TestOrganizationAPI(ScopedAPICases, WrongRoleAPICases):
    basename = "organization"
    lookup = "slug"
    owner, outsider, wrong_role = "northwind.qa", "helix.qa", "northwind.qa"
    patch = {"name": "Renamed"}

    def make_object(self, cast: Cast):
        return cast.orgs["northwind"]


class TestMemberAPI(ScopedAPICases, WrongRoleAPICases, OwnerWriteAPICases):
    basename = "member"
    owner, outsider, wrong_role = "acme.admin", "helix.admin", "acme.qa"
    patch = {"role": "qa_reviewer"}

    def make_object(self, cast: Cast):
        return cast.memberships["acme.operator"]
