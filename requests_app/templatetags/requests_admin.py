"""`{% requests_dashboard %}`: the admin home's deadline dashboard (the stock index view is kept as is)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib import admin

from requests_app.admin.dashboard import dashboard
from requests_app.models import DataSubjectRequest

register = template.Library()


@register.inclusion_tag("admin/requests_app/dashboard.html", takes_context=True)
def requests_dashboard(context: dict[str, Any]) -> dict[str, Any]:
    request = context["request"]
    model_admin = admin.site._registry.get(DataSubjectRequest)
    if model_admin is None or not model_admin.has_view_permission(request):
        return {"dashboard": None}
    # The admin's own queryset: the same org scope as the queue the numbers link to.
    return {"dashboard": dashboard(request, model_admin.get_queryset(request))}
