"""Small helpers every app's pages share (one piece serving all, rather than a copy per app)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.generic import FormView, View
from django.views.generic.detail import SingleObjectMixin

from qms.errors import StaleWrite
from tenants.scoping import ScopedPageMixin


def add_service_errors(form: Any, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the named field when the form has it, else on top."""
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def render_list_with_form(list_view: type, request: HttpRequest, membership: Any, form: Any) -> HttpResponse:
    """A form posted from a list page came back invalid: show that list page again, with the form's errors (400)."""
    view = list_view()
    view.setup(request)
    view.membership = membership
    view.object_list = view.get_queryset()
    return render(request, view.template_name, view.get_context_data(form=form), status=400)


class ObjectButton(ScopedPageMixin, SingleObjectMixin, View):
    """A POST button on one visible object. Subclasses give ``act`` (do it; return the success message, or "" for
    none) and ``back`` (where to go next); a refusal (ValidationError) comes back as an error message."""

    writes = True
    http_method_names = ["post"]
    act: Callable[[Any], str]
    back: Callable[[Any], str]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        try:
            message = self.act(obj)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            if message:
                messages.success(request, message)
        return redirect(self.back(obj))


class ObjectForm(ScopedPageMixin, FormView):
    """A form acting on one visible object the member may write (its selector finds it; 404 otherwise).

    Subclasses give ``act(obj, cleaned_data)`` returning the success message, ``back(obj)``, and a ``title``; a
    service refusal lands on the form's fields (400), a stale edit on top of the form (409).
    """

    writes = True
    template_name = "tenants/form.html"
    title = ""
    act: Callable[[Any, dict[str, Any]], str]
    back: Callable[[Any], str]

    def target(self) -> Any:
        if not hasattr(self, "_target"):
            self._target = self.get_object()
        return self._target

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        obj = self.target()
        return {**super().get_context_data(**kwargs), "object": obj, "title": f"{self.title}: {obj}",
                "cancel_url": self.back(obj)}

    def form_valid(self, form: Any) -> HttpResponse:
        obj = self.target()
        try:
            message = self.act(obj, form.cleaned_data)
        except StaleWrite as exc:
            form.add_error(None, str(exc))
            return self.render_to_response(self.get_context_data(form=form), status=409)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        if message:
            messages.success(self.request, message)
        return redirect(self.back(obj))

    def form_invalid(self, form: Any) -> HttpResponse:
        return self.render_to_response(self.get_context_data(form=form), status=400)
