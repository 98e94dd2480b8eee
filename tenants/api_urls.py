from django.urls import path
from rest_framework.routers import DefaultRouter

from tenants import api

router = DefaultRouter()
router.register("organizations", api.OrganizationViewSet, basename="organization")
router.register("sites", api.SiteViewSet, basename="site")
router.register("products", api.ProductViewSet, basename="product")
router.register("partnerships", api.PartnershipViewSet, basename="partnership")
router.register("members", api.MemberViewSet, basename="member")
router.register("grants", api.GrantViewSet, basename="grant")
router.register("files", api.StoredFileViewSet, basename="file")

urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="token"),
    path("me/", api.MeView.as_view(), name="me"),
    *router.urls,
]
