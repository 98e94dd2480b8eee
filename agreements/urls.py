from django.urls import path

from agreements import views

urlpatterns = [
    path("agreements/", views.AgreementListView.as_view(), name="agreements"),
    path("agreements/new/", views.AgreementStartView.as_view(), name="agreement-start"),
    path("agreements/subcontractors/", views.ConsentListView.as_view(), name="consents"),
    path("agreements/subcontractors/propose/", views.ConsentProposeView.as_view(), name="consent-propose"),
    path("agreements/subcontractors/<int:pk>/approve/", views.ConsentApproveView.as_view(), name="consent-approve"),
    path("agreements/subcontractors/<int:pk>/withdraw/", views.ConsentWithdrawView.as_view(),
         name="consent-withdraw"),
    path("agreements/<int:pk>/", views.AgreementDetailView.as_view(), name="agreement-detail"),
    path("agreements/<int:pk>/terms/", views.TermsEditView.as_view(), name="agreement-terms"),
    path("agreements/<int:pk>/sections/<slug:key>/", views.SectionEditView.as_view(), name="agreement-section"),
    path("agreements/<int:pk>/raci/", views.RaciEditView.as_view(), name="agreement-raci"),
    path("agreements/<int:pk>/raci/add/", views.RaciActivityAddView.as_view(), name="agreement-raci-add"),
    path("agreements/<int:pk>/windows/", views.WindowsEditView.as_view(), name="agreement-windows"),
    path("agreements/<int:pk>/data-sharing/", views.DataSharingEditView.as_view(), name="agreement-data-sharing"),
    path("agreements/<int:pk>/submit/", views.SubmitView.as_view(), name="agreement-submit"),
    path("agreements/<int:pk>/return/", views.ReturnToDraftView.as_view(), name="agreement-return"),
    path("agreements/<int:pk>/approve/", views.ApproveView.as_view(), name="agreement-approve"),
    path("agreements/<int:pk>/override/", views.OverrideView.as_view(), name="agreement-override"),
    path("agreements/<int:pk>/terminate/", views.TerminateView.as_view(), name="agreement-terminate"),
    path("agreements/<int:pk>/compare/", views.CompareView.as_view(), name="agreement-compare"),
    path("agreements/<int:pk>/pdf/", views.PdfView.as_view(), name="agreement-pdf"),
]
