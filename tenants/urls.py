from django.urls import path

from tenants import account_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("organization/switch/", views.switch_organization, name="switch-organization"),
    path("organization/security/", account_views.organization_security, name="organization-security"),
    path("partnerships/", views.PartnershipListView.as_view(), name="partnerships"),
    path("partnerships/<int:pk>/", views.PartnershipDetailView.as_view(), name="partnership-detail"),
    path("partnerships/<int:pk>/files/", views.PartnershipFileUploadView.as_view(), name="partnership-file-upload"),
    path("partnerships/<int:pk>/sign/", views.PartnershipSignView.as_view(), name="partnership-sign"),
    path("partnerships/<int:pk>/pdf/", views.PartnershipPdfView.as_view(), name="partnership-pdf"),
    path("files/<int:pk>/download/", views.FileDownloadView.as_view(), name="file-download"),
    path("sites/", views.SiteListView.as_view(), name="sites"),
    path("sites/new/", views.SiteFormView.as_view(), name="site-create"),
    path("sites/<int:pk>/edit/", views.SiteFormView.as_view(), name="site-edit"),
    path("products/", views.ProductListView.as_view(), name="products"),
    path("products/new/", views.ProductFormView.as_view(), name="product-create"),
    path("products/<int:pk>/edit/", views.ProductFormView.as_view(), name="product-edit"),
    path("members/", views.MemberListView.as_view(), name="members"),
    path("members/new/", views.MemberAddView.as_view(), name="member-create"),
    path("members/<int:pk>/edit/", views.MemberFormView.as_view(), name="member-edit"),
    path("grants/", views.GrantListView.as_view(), name="grants"),
    path("grants/new/", views.GrantCreateView.as_view(), name="grant-create"),
    path("grants/<int:pk>/revoke/", views.GrantRevokeView.as_view(), name="grant-revoke"),
]
