from rest_framework.routers import SimpleRouter

from agreements import api

router = SimpleRouter()
router.register("agreements", api.AgreementViewSet, basename="agreement")
router.register("subcontractor-consents", api.ConsentViewSet, basename="consent")
router.register("gmp-activities", api.ActivityViewSet, basename="gmp-activity")

urlpatterns = router.urls
