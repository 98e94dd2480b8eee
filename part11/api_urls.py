from rest_framework.routers import DefaultRouter

from part11 import api

router = DefaultRouter()
router.register("audit-events", api.AuditEventViewSet, basename="audit-event")
router.register("signatures", api.SignatureViewSet, basename="signature")

urlpatterns = router.urls
