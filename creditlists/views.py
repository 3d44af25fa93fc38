"""The public lists (守信红名单 / 失信黑名单): legal persons only, searchable, paginated."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from workflow_app.textsearch import planned_for_the_text

from . import selectors
from .models import ListType

PAGE_SIZE = 20

INTRO = {
    ListType.RED: _(
        "经信源单位依法认定、列入守信红名单的法人和非法人组织。名单信息由认定单位负责，"
        "如有异议可向认定单位提出。"
    ),
    ListType.BLACK: _(
        "经信源单位依法认定、列入失信黑名单的法人和非法人组织。移出名单后不再在此公示；"
        "如有异议可向认定单位提出。"
    ),
}


class ListSearchForm(forms.Form):
    q = forms.CharField(
        label=_("主体名称或统一社会信用代码"),
        max_length=selectors.MAX_QUERY,
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "autocomplete": "off", "spellcheck": "false"}
        ),
    )


def public_list(request: HttpRequest, list_type: str) -> HttpResponse:
    form = ListSearchForm(request.GET)
    q = form.cleaned_data["q"].strip() if form.is_valid() else ""
    with planned_for_the_text(q):
        page = Paginator(selectors.public_list(list_type, q), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        page.object_list = list(page.object_list)  # read here, within the block
    other = ListType.BLACK if list_type == ListType.RED else ListType.RED
    return render(
        request,
        "creditlists/public_list.html",
        {
            "list_type": list_type,
            "title": ListType(list_type).label,
            "intro": INTRO[ListType(list_type)],
            "other_url_name": f"{other}-list",
            "other_title": ListType(other).label,
            "form": form,
            "q": q,
            "page": page,
            "query": urlencode({"q": q}) if q else "",
        },
    )
