from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.generic.base import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

api_v1 = [
    path("", include("workflow_app.accounts.api_urls")),
    path("", include("workflow_app.registry.api_urls")),
    path("", include("notifications.api_urls")),
    path("", include("processes.api_urls")),
    path("", include("commitments.urls")),
    path("", include("creditlists.api_urls")),
    path("", include("documents.api_urls")),
    path("", include("oversight.api_urls")),
]

urlpatterns = [
    path(
        "favicon.ico",
        RedirectView.as_view(
            url="/" + settings.STATIC_URL.lstrip("/") + "favicon.svg", permanent=True
        ),
    ),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("", include("workflow_app.accounts.urls")),
    path("", include("workflow_app.registry.urls")),
    path("", include("notifications.urls")),
    path("", include("processes.urls")),
    path("", include("creditlists.urls")),
    path("", include("documents.urls")),
    path("", include("oversight.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
handler500 = "workflow_app.unavailable.handler500"
handler404 = "workflow_app.unavailable.handler404"
