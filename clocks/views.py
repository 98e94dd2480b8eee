"""Pages for clocks: my deadlines, all deadlines, a deadline, the notification centre, delivery failures, calendars.

Thin: ``clocks.selectors`` to read and ``clocks.services`` to write, the same ones the API uses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.generic import DetailView, FormView, ListView, View

from clocks import selectors, services
from clocks.api import DeadlineFilter
from clocks.calendars import CalendarCode
from clocks.delivery import notification_link
from clocks.forms import ClosureForm, ExtendForm, ReasonForm
from clocks.models import STAGE_LABELS, Deadline
from part11.models import record_page_url
from qms.errors import StaleWrite
from qms.pages import ObjectButton, add_service_errors, render_list_with_form
from tenants.permissions import Capability, can
from tenants.scoping import ScopedPageMixin


class _DeadlineList(ScopedPageMixin, ListView):
    template_name = "clocks/deadline_list.html"
    context_object_name = "deadlines"
    filterset_class = DeadlineFilter
    paginate_by = 50
    heading = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "heading": self.heading, "now": timezone.now(),
                "stage_labels": STAGE_LABELS, "states": Deadline.State.choices,
                "chosen_states": self.request.GET.getlist("state")}


class MyDeadlineListView(_DeadlineList):
    """Open clocks my role must act on (and missed ones still undone), soonest first."""

    selector = selectors.my_deadlines
    heading = "My deadlines"


class DeadlineListView(_DeadlineList):
    """Every deadline the organization owns or is told about."""

    selector = selectors.deadline_list
    heading = "All deadlines"


class DeadlineDetailView(ScopedPageMixin, DetailView):
    selector = selectors.deadline_list
    template_name = "clocks/deadline_detail.html"
    context_object_name = "deadline"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        deadline: Deadline = self.object
        owner = deadline.organization_id == self.membership.organization_id
        return {
            **super().get_context_data(**kwargs), "now": timezone.now(), "stage_labels": STAGE_LABELS,
            "stages": selectors.deadline_stages(deadline=deadline),
            "audience": selectors.deadline_audience(deadline=deadline),
            "record_url": record_page_url(deadline.record_table, deadline.record_id),
            "can_extend": owner and deadline.extendable and not deadline.is_closed
            and can(self.membership, Capability.APPROVE_QUALITY_RECORDS),
            "can_complete": owner and deadline.closed_by_hand and not deadline.is_closed
            and can(self.membership, Capability.AUTHOR_QUALITY_RECORDS),
            "can_cancel": owner and deadline.closed_by_hand and not deadline.is_closed
            and can(self.membership, Capability.APPROVE_QUALITY_RECORDS),
            "extend_form": ExtendForm(initial={"version": deadline.version}),
        }


class _DeadlineAction(ScopedPageMixin, FormView):
    selector = selectors.deadline_list
    writes = True
    template_name = "tenants/form.html"
    title = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        deadline = self.get_object()
        return {**super().get_context_data(**kwargs), "title": f"{self.title}: {deadline}",
                "cancel_url": reverse("deadline-detail", args=[deadline.pk])}

    def done(self, deadline: Deadline, message: str) -> HttpResponse:
        messages.success(self.request, message)
        return redirect("deadline-detail", pk=deadline.pk)


class DeadlineExtendView(_DeadlineAction):
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = ExtendForm
    title = "Extend"

    def get_initial(self) -> dict[str, Any]:
        return {"version": self.get_object().version}

    def form_valid(self, form: ExtendForm) -> HttpResponse:
        deadline = self.get_object()
        try:
            services.deadline_extend(membership=self.membership, deadline=deadline, reason=form.cleaned_data["reason"],
                                     due_date=form.cleaned_data["due_date"],
                                     expected_version=form.cleaned_data["version"])
        except StaleWrite:
            form.add_error(None, "Someone changed this deadline while you were editing; reload it and try again.")
            return self.form_invalid(form)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        return self.done(deadline, f"Extended: now due {deadline.due_at:%-d %b %Y}.")


class DeadlineCancelView(_DeadlineAction):
    write_capability = Capability.APPROVE_QUALITY_RECORDS
    form_class = ReasonForm
    title = "Cancel"

    def form_valid(self, form: ReasonForm) -> HttpResponse:
        deadline = self.get_object()
        try:
            services.deadline_cancel(deadline=deadline, membership=self.membership, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        return self.done(deadline, "Deadline cancelled.")


class DeadlineCompleteView(ObjectButton):
    selector = selectors.deadline_list
    write_capability = Capability.AUTHOR_QUALITY_RECORDS

    def act(self, deadline: Deadline) -> str:
        services.deadline_complete(deadline=deadline, membership=self.membership)
        return "Marked met late." if deadline.completed_late else "Marked met."

    def back(self, deadline: Deadline) -> str:
        return reverse("deadline-detail", args=[deadline.pk])


# --- Notifications ------------------------------------------------------------------------------------------------


class NotificationListView(ScopedPageMixin, ListView):
    selector = selectors.notification_list
    template_name = "clocks/notification_list.html"
    context_object_name = "notifications"
    paginate_by = 50


class NotificationBadgeView(ScopedPageMixin, View):
    """The unread count in the top bar; htmx polls it, so a notification shows up without a reload."""

    selector = selectors.notification_list
    http_method_names = ["get"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return render(request, "clocks/_badge.html", {"unread": selectors.unread_count(membership=self.membership)})


class NotificationOpenView(ObjectButton):
    """Open a notification: mark it read and go to what it is about."""

    selector = selectors.notification_list
    write_capability = Capability.VIEW

    def act(self, notification: Any) -> str:
        services.notification_mark_read(membership=self.membership, notification=notification)
        return ""

    def back(self, notification: Any) -> str:
        return notification_link(notification)


class NotificationReadAllView(ScopedPageMixin, View):
    selector = selectors.notification_list
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        count = services.notification_mark_all_read(membership=self.membership)
        messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
        return redirect("notifications")


class DeliveryFailureListView(ScopedPageMixin, ListView):
    selector = selectors.delivery_failures
    read_capability = Capability.MANAGE_MEMBERS
    template_name = "clocks/failure_list.html"
    context_object_name = "failures"
    paginate_by = 50


class DeliveryRetryView(ObjectButton):
    selector = selectors.delivery_failures
    read_capability = Capability.MANAGE_MEMBERS
    write_capability = Capability.MANAGE_MEMBERS

    def act(self, notification: Any) -> str:
        services.delivery_retry(membership=self.membership, notification=notification)
        return f"Queued again for {notification.user.email}."

    def back(self, notification: Any) -> str:
        return reverse("notification-failures")


# --- Calendars and closure days -------------------------------------------------------------------------------


class CalendarPageView(ScopedPageMixin, ListView):
    """A calendar's holidays for a year, the organization's closure days, and adding one."""

    selector = selectors.closure_list
    template_name = "clocks/calendar.html"
    context_object_name = "closures"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        code = self.request.GET.get("calendar") or CalendarCode.US_FEDERAL
        code = code if code in CalendarCode.values else CalendarCode.US_FEDERAL
        try:
            year = min(max(int(self.request.GET.get("year") or dt.date.today().year), 1990), 2100)
        except ValueError:
            year = dt.date.today().year
        return {**super().get_context_data(**kwargs), "calendars": CalendarCode.choices, "year": year,
                "calendar": selectors.calendar_year(membership=self.membership, code=code, year=year),
                "form": kwargs.get("form") or ClosureForm(initial={"calendar": code}),
                "can_manage": can(self.membership, Capability.MANAGE_MASTER_DATA)}


class ClosureAddView(ScopedPageMixin, FormView):
    selector = selectors.closure_list
    writes = True
    write_capability = Capability.MANAGE_MASTER_DATA
    form_class = ClosureForm
    http_method_names = ["post"]

    def form_valid(self, form: ClosureForm) -> HttpResponse:
        try:
            closure = services.closure_add(membership=self.membership, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Closure day added: {closure}. Open clocks spanning it were recomputed.")
        return redirect(f"{reverse('calendars')}?calendar={closure.calendar}&year={closure.date.year}")

    def form_invalid(self, form: ClosureForm) -> HttpResponse:
        return render_list_with_form(CalendarPageView, self.request, self.membership, form)


class ClosureWithdrawView(ScopedPageMixin, FormView):
    selector = selectors.closure_list
    writes = True
    write_capability = Capability.MANAGE_MASTER_DATA
    template_name = "tenants/form.html"
    form_class = ReasonForm

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "title": f"Withdraw closure day {self.get_object()}",
                "cancel_url": reverse("calendars")}

    def form_valid(self, form: ReasonForm) -> HttpResponse:
        closure = self.get_object()
        try:
            services.closure_withdraw(membership=self.membership, closure=closure, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, f"Withdrawn: {closure}. Open clocks spanning it were recomputed.")
        return redirect(f"{reverse('calendars')}?calendar={closure.calendar}&year={closure.date.year}")

