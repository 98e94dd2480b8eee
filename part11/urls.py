from django.urls import path

from part11 import views

urlpatterns = [
    path("audit/", views.AuditSearchView.as_view(), name="audit-search"),
    path("audit/export.csv", views.AuditExportView.as_view(), name="audit-export"),
    path("audit/<slug:record_type>/<int:record_id>/", views.RecordHistoryView.as_view(), name="record-history"),
    path("audit/<slug:record_type>/<int:record_id>/reviewed/", views.AuditReviewView.as_view(),
         name="audit-trail-reviewed"),
    path("signatures/<int:pk>/verify/", views.SignatureVerifyView.as_view(), name="signature-verify"),
]
