"""Names the mock and its clients agree on, each stated once: headers, the control plane's prefix,
the application of a call that names none."""

from __future__ import annotations

# Algolia's credentials, as the official clients send them (lower case: how ASGI gives headers).
APP_ID_HEADER = "x-algolia-application-id"
API_KEY_HEADER = "x-algolia-api-key"
# The control plane's own credential (``mockserver serve --admin-key``).
ADMIN_KEY_HEADER = "x-mockserver-admin-key"
# Where the control plane is served.
CONTROL_PREFIX = "/__mock__"
# The application of a spec without Algolia's credentials (generic mode), and of a control-plane
# call that names none.
DEFAULT_APP_ID = "default"
