from rest_framework.routers import SimpleRouter

from deviations import api

router = SimpleRouter()
router.register("deviations", api.DeviationViewSet, basename="deviation")
router.register("deviation-notices", api.NoticeViewSet, basename="deviation-notice")
router.register("deviation-extensions", api.ExtensionViewSet, basename="deviation-extension")
router.register("consistency-flags", api.ConsistencyFlagViewSet, basename="consistency-flag")
router.register("root-causes", api.RootCauseViewSet, basename="root-cause")

urlpatterns = router.urls
