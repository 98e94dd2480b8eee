from rest_framework.routers import SimpleRouter

from capa import api

router = SimpleRouter()
router.register("capas", api.CapaViewSet, basename="capa")
router.register("capa-actions", api.CapaActionViewSet, basename="capa-action")

urlpatterns = router.urls
