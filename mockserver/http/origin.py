"""Who may reach the mock from a browser: the Host a request names, and the page a state-changing
control-plane request comes from.

- **Host** (every control-plane and inspector request): the name in the ``Host`` header must be
  one the mock is known by: ``localhost``, ``127.0.0.1``, ``[::1]``, the address the client
  connected to (the bind address; ``testserver`` or the base URL's host for in-process clients,
  whose transports report it as the server), or one of ``settings.allowed_hosts`` (``*``: any).
  Otherwise 403 ``host_not_allowed``: a page on another site whose name was made to resolve to the
  mock's address (DNS rebinding) names its own site. The API face does not check it: clients send
  the host of whatever URL they were given (a container's service name, a proxy's), and with
  configured credentials a page cannot make up the API key.
- **Origin** (control-plane requests that change something): a browser says which page sent it
  (``Origin``, ``Sec-Fetch-Site``); a page of another site (or an opaque ``null`` origin) is
  refused with 403 ``cross_origin_request``. Clients outside a browser send neither header.
- **Content type**: a state-changing control-plane request with a body must say it is JSON, so a
  page cannot send one as a "simple" ``text/plain`` or form request that skips the browser's
  preflight (415 ``unsupported_media_type``).
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from mockserver.engine.errors import ApiError

# The names every mock answers to, whatever it is bound to.
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
ANY_HOST = "*"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class HostNotAllowed(ApiError):
    status = 403
    code = "host_not_allowed"


class CrossOrigin(ApiError):
    status = 403
    code = "cross_origin_request"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "unsupported_media_type"


def host_name(value: str) -> str:
    """The name of a ``Host`` header or a URL's authority: lower case, without port, brackets or a
    final dot (``[::1]:8080`` -> ``::1``)."""
    text = value.strip().lower()
    if text.startswith("["):
        end = text.find("]")
        return text[1:end] if end > 0 else text
    if text.count(":") == 1:
        text = text.partition(":")[0]
    return text.rstrip(".")


class HostCheck:
    """The host names the mock answers to (see the module's doc)."""

    def __init__(self, allowed: Iterable[str]) -> None:
        names = {host_name(name) for name in allowed}
        self.any = ANY_HOST in names
        self.names = frozenset(LOCAL_NAMES | names)

    def allows(self, name: str, server: str | None) -> bool:
        return self.any or name in self.names or (server is not None and name == host_name(server))

    def refusal(self, host: str | None, server: str | None) -> ApiError | None:
        """The error for a request naming ``host`` (its Host header; None: there was none) that
        came in on the address ``server``; None when it may go on."""
        if host is None or self.any:
            return None
        name = host_name(host)
        if self.allows(name, server):
            return None
        shown = sorted(self.names | ({host_name(server)} if server else set()))
        return HostNotAllowed(
            f"header.host: {host[:100]!r} is not a name this mock answers to ({', '.join(shown)}); "
            "start it with --allowed-host NAME (setting allowed_hosts) to reach it by that name"
        )

    def origin_refusal(
        self, method: str, origin: str | None, fetch_site: str | None, server: str | None
    ) -> ApiError | None:
        """The error for a state-changing request sent by a page of another site; None otherwise."""
        if method in SAFE_METHODS:
            return None
        if fetch_site is not None and fetch_site.strip().lower() == "cross-site":
            return CrossOrigin(
                "header.sec-fetch-site: cross-site; the control plane takes changes only from its own "
                "pages and from clients outside a browser"
            )
        if origin is None:
            return None
        parts = urlsplit(origin.strip())
        if origin.strip() == "null" or not parts.hostname or parts.scheme not in ("http", "https"):
            return CrossOrigin(
                f"header.origin: {origin[:100]!r} is not a page this mock serves; the control plane "
                "takes changes only from its own pages and from clients outside a browser"
            )
        if not self.allows(host_name(parts.hostname), server):
            return CrossOrigin(
                f"header.origin: a page of {origin[:100]!r} may not change this mock (it answers to "
                f"{', '.join(sorted(self.names))}; --allowed-host adds a name)"
            )
        return None


def json_body_refusal(method: str, content_type: str | None, has_body: bool) -> ApiError | None:
    """415 for a state-changing request whose body is not declared JSON (``application/json`` or a
    ``+json`` type); a request without a body needs no type."""
    if method in SAFE_METHODS or not has_body:
        return None
    media = (content_type or "").partition(";")[0].strip().lower()
    if media == "application/json" or (media.startswith("application/") and media.endswith("+json")):
        return None
    return UnsupportedMediaType(
        f"header.content-type: {(content_type or '(none)')[:100]!r}; a control-plane request that "
        "changes something sends its body as application/json"
    )
