from django.urls import path

from clocks import views

urlpatterns = [
    path("deadlines/", views.MyDeadlineListView.as_view(), name="my-deadlines"),
    path("deadlines/all/", views.DeadlineListView.as_view(), name="deadlines"),
    path("deadlines/<int:pk>/", views.DeadlineDetailView.as_view(), name="deadline-detail"),
    path("deadlines/<int:pk>/extend/", views.DeadlineExtendView.as_view(), name="deadline-extend"),
    path("deadlines/<int:pk>/complete/", views.DeadlineCompleteView.as_view(), name="deadline-complete"),
    path("deadlines/<int:pk>/cancel/", views.DeadlineCancelView.as_view(), name="deadline-cancel"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/badge/", views.NotificationBadgeView.as_view(), name="notification-badge"),
    path("notifications/read-all/", views.NotificationReadAllView.as_view(), name="notifications-read-all"),
    path("notifications/<int:pk>/open/", views.NotificationOpenView.as_view(), name="notification-open"),
    path("notifications/failures/", views.DeliveryFailureListView.as_view(), name="notification-failures"),
    path("notifications/failures/<int:pk>/retry/", views.DeliveryRetryView.as_view(), name="notification-retry"),
    path("calendars/", views.CalendarPageView.as_view(), name="calendars"),
    path("calendars/closures/", views.ClosureAddView.as_view(), name="closure-add"),
    path("calendars/closures/<int:pk>/withdraw/", views.ClosureWithdrawView.as_view(), name="closure-withdraw"),
]
