from rest_framework.routers import SimpleRouter

from batches import api

router = SimpleRouter()
router.register("batches", api.BatchViewSet, basename="batch")
router.register("batch-documents", api.BatchDocumentViewSet, basename="batch-document")
router.register("batch-queries", api.BatchQueryViewSet, basename="batch-query")
router.register("batch-dispositions", api.BatchDispositionViewSet, basename="batch-disposition")

urlpatterns = router.urls
