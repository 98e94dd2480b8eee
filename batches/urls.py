from django.urls import path

from batches import views

urlpatterns = [
    path("batches/", views.BatchListView.as_view(), name="batches"),
    path("batches/queue/", views.BatchQueueView.as_view(), name="batch-queue"),
    path("batches/new/", views.BatchCreateView.as_view(), name="batch-create"),
    path("batches/import/", views.BatchImportView.as_view(), name="batch-import"),
    path("batches/export.csv", views.BatchExportView.as_view(), name="batch-export"),
    path("batches/documents/<int:pk>/", views.DocumentView.as_view(), name="batch-document"),
    path("batches/queries/<int:pk>/reply/", views.QueryReplyView.as_view(), name="batch-query-reply"),
    path("batches/queries/<int:pk>/close/", views.QueryCloseView.as_view(), name="batch-query-close"),
    path("batches/<int:pk>/", views.BatchDetailView.as_view(), name="batch-detail"),
    path("batches/<int:pk>/edit/", views.BatchEditView.as_view(), name="batch-edit"),
    path("batches/<int:pk>/results/", views.ResultsView.as_view(), name="batch-results"),
    path("batches/<int:pk>/changes/", views.ChangesView.as_view(), name="batch-changes"),
    path("batches/<int:pk>/documents/", views.DocumentUploadView.as_view(), name="batch-document-upload"),
    path("batches/<int:pk>/submit/", views.SubmitView.as_view(), name="batch-submit"),
    path("batches/<int:pk>/return/", views.ReturnView.as_view(), name="batch-return"),
    path("batches/<int:pk>/dispose/", views.DisposeView.as_view(), name="batch-dispose"),
    path("batches/<int:pk>/delivery/", views.DeliveryView.as_view(), name="batch-delivery"),
    path("batches/<int:pk>/queries/new/", views.QueryCreateView.as_view(), name="batch-query-create"),
    path("batches/<int:pk>/pdf/", views.PdfView.as_view(), name="batch-pdf"),
]
