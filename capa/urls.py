from django.urls import path

from capa import views

urlpatterns = [
    path("capa/", views.CapaListView.as_view(), name="capas"),
    path("capa/new/", views.CapaCreateView.as_view(), name="capa-create"),
    path("capa/actions/<int:pk>/complete/", views.ActionCompleteView.as_view(), name="capa-action-complete"),
    path("capa/<int:pk>/", views.CapaDetailView.as_view(), name="capa-detail"),
    path("capa/<int:pk>/edit/", views.CapaEditView.as_view(), name="capa-edit"),
    path("capa/<int:pk>/actions/", views.ActionAddView.as_view(), name="capa-action-add"),
    path("capa/<int:pk>/effectiveness/", views.EffectivenessPlanView.as_view(), name="capa-effectiveness"),
    path("capa/<int:pk>/effectiveness/result/", views.EffectivenessResultView.as_view(),
         name="capa-effectiveness-result"),
    path("capa/<int:pk>/close/", views.CloseView.as_view(), name="capa-close"),
    path("capa/<int:pk>/cancel/", views.CancelView.as_view(), name="capa-cancel"),
    path("capa/<int:pk>/pdf/", views.PdfView.as_view(), name="capa-pdf"),
]
