from django.urls import path

from deviations import views

urlpatterns = [
    path("deviations/", views.DeviationListView.as_view(), name="deviations"),
    path("deviations/new/", views.DeviationCreateView.as_view(), name="deviation-create"),
    path("deviations/export.csv", views.DeviationExportView.as_view(), name="deviation-export"),
    path("deviations/consistency/", views.ConsistencyReportView.as_view(), name="deviation-consistency"),
    path("deviations/consistency/<int:pk>/review/", views.FlagReviewView.as_view(), name="deviation-flag-review"),
    path("deviations/root-causes/", views.TaxonomyView.as_view(), name="deviation-taxonomy"),
    path("deviations/root-causes/add/", views.CauseAddView.as_view(), name="deviation-cause-add"),
    path("deviations/notices/<int:pk>/acknowledge/", views.AcknowledgeView.as_view(), name="deviation-acknowledge"),
    path("deviations/extensions/<int:pk>/decide/", views.ExtensionDecideView.as_view(),
         name="deviation-extension-decide"),
    path("deviations/<int:pk>/", views.DeviationDetailView.as_view(), name="deviation-detail"),
    path("deviations/<int:pk>/edit/", views.DeviationEditView.as_view(), name="deviation-edit"),
    path("deviations/<int:pk>/lines/", views.LinesEditView.as_view(), name="deviation-lines"),
    path("deviations/<int:pk>/report/", views.ReportView.as_view(), name="deviation-report"),
    path("deviations/<int:pk>/classify/", views.ClassifyView.as_view(), name="deviation-classify"),
    path("deviations/<int:pk>/start/", views.StartInvestigationView.as_view(), name="deviation-start"),
    path("deviations/<int:pk>/investigation/", views.InvestigationView.as_view(), name="deviation-investigation"),
    path("deviations/<int:pk>/submit/", views.SubmitView.as_view(), name="deviation-submit"),
    path("deviations/<int:pk>/return/", views.ReturnView.as_view(), name="deviation-return"),
    path("deviations/<int:pk>/close/", views.CloseView.as_view(), name="deviation-close"),
    path("deviations/<int:pk>/cancel/", views.CancelView.as_view(), name="deviation-cancel"),
    path("deviations/<int:pk>/reopen/", views.ReopenView.as_view(), name="deviation-reopen"),
    path("deviations/<int:pk>/notify/", views.NotifyView.as_view(), name="deviation-notify"),
    path("deviations/<int:pk>/comment/", views.CommentView.as_view(), name="deviation-comment"),
    path("deviations/<int:pk>/extension/", views.ExtensionRequestView.as_view(), name="deviation-extension"),
    path("deviations/<int:pk>/files/", views.AttachmentUploadView.as_view(), name="deviation-file-upload"),
    path("deviations/<int:pk>/pdf/", views.PdfView.as_view(), name="deviation-pdf"),
]
