from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.health import healthz
from exports import pages as export_pages
from verification import pages as verification_pages


class OpenApiJsonView(SpectacularAPIView):
    # application/json first: what schema clients ask for; the OpenAPI media type when named.
    renderer_classes = [OpenApiJsonRenderer2, OpenApiJsonRenderer]
    authentication_classes: list = []
    permission_classes: list = []
    throttle_classes: list = []


# The admin's modules register their pages now, with the URLs (INSTALLED_APPS has SimpleAdminConfig).
admin.autodiscover()

urlpatterns = [
    # The product's home is the officers' workspace (the admin's "View site" is hidden: it would lead here).
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False), name="home"),
    path("healthz", healthz, name="healthz"),
    path("v1/openapi.json", OpenApiJsonView.as_view(), name="schema"),
    path(
        "v1/docs",
        SpectacularSwaggerView.as_view(url_name="schema", authentication_classes=[], permission_classes=[]),
        name="docs",
    ),
    path("v1/", include("requests_app.urls")),
    path("v1/", include("notifications.urls")),
    path("v1/", include("exports.urls")),
    path("v1/", include("correspondence.urls")),
    path("v1/", include("verification.urls")),
    path("admin/", admin.site.urls),
    # The subject's confirm page for a verification link (verification.pages): no key, the link's token.
    path("s/verify/<str:token>", verification_pages.verify_page, name="subject-verify-page"),
    # The subject's download portal (exports.pages): no key, the link's token.
    path("s/d/<str:delivery_id>", export_pages.delivery_page, name="subject-delivery-page"),
    path(
        "s/d/<str:delivery_id>/download",
        export_pages.delivery_page_download,
        name="subject-delivery-page-download",
    ),
]

if settings.DSAR_SERVE_STATIC:
    # Self-hosted installs often run without a front proxy; the admin's CSS/JS must still load.
    urlpatterns.append(re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}))
