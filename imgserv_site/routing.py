"""The ASGI application: HTTP to Django behind the public pages' copies (freshness),
websockets to the live consumer behind the origin check. `asgi.py` is what daphne loads;
this module is the application alone, so tests can import it without taking on the server
process's umask."""

from __future__ import annotations

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imgserv_site.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import WebsocketDenier  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from imgserv_site.freshness import FreshPages  # noqa: E402
from imgserv_site.security import WebsocketOriginValidator  # noqa: E402
from sequences.consumers import LiveConsumer  # noqa: E402

websocket_urls = [
    path("ws/live/", LiveConsumer.as_asgi()),
    # A camera slug as the model allows it (SlugField, 100 characters at most).
    re_path(r"^ws/live/(?P<slug>[-a-zA-Z0-9_]{1,100})/$", LiveConsumer.as_asgi()),
    # Anything else (`ws/live/../`, a path of 5,000 characters) is refused at the handshake
    # (403) rather than raising "No route found" with a traceback.
    re_path(r"", WebsocketDenier.as_asgi()),
]

application = ProtocolTypeRouter(
    {
        "http": FreshPages(django_asgi_app),
        "websocket": WebsocketOriginValidator(URLRouter(websocket_urls)),
    }
)
