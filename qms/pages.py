"""Small helpers every app's pages share (one piece serving all, rather than a copy per app)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


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
