"""Every REST route under /api/v1/, in the ``api`` namespace (``reverse("api:site-list")``).

Each app contributes its ``api_urls.urlpatterns``; adding an app's API is one line here.
"""

from django.urls import include, path

app_name = "api"

urlpatterns = [
    path("", include("tenants.api_urls")),
    path("", include("part11.api_urls")),
    path("", include("clocks.api_urls")),
    path("", include("agreements.api_urls")),
    path("", include("deviations.api_urls")),
    path("", include("capa.api_urls")),
    path("", include("batches.api_urls")),
    path("", include("changes.api_urls")),
    path("inspections/", include("inspections.api_urls")),
]
