from django.urls import path
from rest_framework.routers import SimpleRouter

from clocks import api

router = SimpleRouter()
router.register("deadlines", api.DeadlineViewSet, basename="deadline")
router.register("notifications", api.NotificationViewSet, basename="notification")
router.register("notification-failures", api.DeliveryFailureViewSet, basename="notification-failure")
router.register("closure-days", api.ClosureDayViewSet, basename="closure-day")

urlpatterns = [
    path("calendars/<str:code>/", api.CalendarView.as_view(), name="calendar"),
    *router.urls,
]
