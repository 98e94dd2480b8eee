from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from qms import health
from tenants import account_views

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/verify/", account_views.verify_second_factor, name="verify-second-factor"),
    path("account/two-factor/", account_views.two_factor, name="two-factor"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("account/set-password/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("account/set-password/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's script as a file (no inline script); Swagger UI sets inline styles.
    path("api/docs/", csp_update({"style-src": ["'unsafe-inline'"]})(
        SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    path("api/v1/", include("qms.api_urls")),
    path("", include("part11.urls")),
    path("", include("clocks.urls")),
    path("", include("agreements.urls")),
    path("", include("deviations.urls")),
    path("", include("capa.urls")),
    path("", include("batches.urls")),
    path("changes/", include("changes.urls")),
    path("inspections/", include("inspections.urls")),
    path("", include("tenants.urls")),
]
