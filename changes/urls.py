from django.urls import path

from changes import views

urlpatterns = [
    path("", views.ChangeListView.as_view(), name="changes"),
    path("awaiting/", views.AwaitingView.as_view(), name="change-awaiting"),
    path("new/", views.ChangeCreateView.as_view(), name="change-create"),
    path("<int:pk>/", views.ChangeDetailView.as_view(), name="change-detail"),
    path("<int:pk>/edit/", views.ChangeEditView.as_view(), name="change-edit"),
    path("<int:pk>/assess/", views.AssessView.as_view(), name="change-assess"),
    path("<int:pk>/submit/", views.SubmitView.as_view(), name="change-submit"),
    path("<int:pk>/notify/", views.NotifyView.as_view(), name="change-notify"),
    path("<int:pk>/filings/<int:assessment>/decide/", views.FilingDecideView.as_view(), name="change-filing-decide"),
    path("<int:pk>/decisions/<int:decision>/agency-approval/", views.AgencyApprovalView.as_view(),
         name="change-agency-approval"),
    path("<int:pk>/sponsor-decision/", views.SponsorDecisionView.as_view(), name="change-sponsor-decision"),
    path("<int:pk>/approve/", views.ApproveView.as_view(), name="change-approve"),
    path("<int:pk>/withdraw/", views.WithdrawView.as_view(), name="change-withdraw"),
    path("<int:pk>/implement/", views.ImplementView.as_view(), name="change-implement"),
    path("<int:pk>/effectiveness/", views.EffectivenessView.as_view(), name="change-effectiveness"),
    path("<int:pk>/close/", views.CloseView.as_view(), name="change-close"),
    path("<int:pk>/cancel/", views.CancelView.as_view(), name="change-cancel"),
    path("<int:pk>/documents/", views.DocumentUploadView.as_view(), name="change-document-upload"),
    path("<int:pk>/documents/<int:document>/", views.DocumentView.as_view(), name="change-document"),
    path("<int:pk>/pdf/", views.PdfView.as_view(), name="change-pdf"),
]
