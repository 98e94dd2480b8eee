"""Inspection routes under /api/v1/inspections/ (the inspections themselves at its root, by numeric id)."""

from rest_framework.routers import SimpleRouter

from inspections import api

router = SimpleRouter()
router.register("form483s", api.Form483ViewSet, basename="inspection-form483")
router.register("observations", api.ObservationViewSet, basename="inspection-observation")
router.register("notices", api.NoticeViewSet, basename="inspection-notice")
router.register("impacts", api.ImpactViewSet, basename="inspection-impact")
router.register("", api.InspectionViewSet, basename="inspection")

urlpatterns = router.urls
