"""The ceiling of Django: no apps, no middleware, one view answering constant JSON."""

import os

from ceiling_body import POST
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, JsonResponse
from django.urls import path


def post(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"data": POST})


urlpatterns = [path("post", post)]
settings.configure(
    SECRET_KEY=os.environ["PEER_SECRET_KEY"],
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)
application = get_wsgi_application()
