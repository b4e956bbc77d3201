"""HTTP(S) through a pooled :class:`requests.Session`: the default transport."""

from __future__ import annotations

import http.cookiejar
import os
import time
import warnings

import requests
import requests.adapters
import requests.exceptions
import urllib3.exceptions

from zammad_orm.errors import ConfigurationError, ConnectError, DecodeError, Timeout, TransportError
from zammad_orm.transport.auth import Auth
from zammad_orm.transport.base import BaseTransport
from zammad_orm.transport.messages import Response, loggable_url

__all__ = ["HTTPTransport", "InsecureTransportWarning"]


class InsecureTransportWarning(UserWarning):
    """TLS certificates are not checked (``verify=False``): anyone on the path can read and change traffic.

    Issued once, when an :class:`HTTPTransport` (or a client) is built with ``verify=False``; urllib3's
    per-request ``InsecureRequestWarning`` is not repeated on every HTTPS request then.
    """


def _keep_headers(request: requests.PreparedRequest) -> requests.PreparedRequest:
    # Installed as the session's auth so requests never replaces our Authorization header with
    # credentials it finds in ~/.netrc.
    return request


class HTTPTransport(BaseTransport):
    """Send requests over HTTP(S) with a pooled :class:`requests.Session`.

    Args:
        timeout: Seconds to wait for the connection and for each read: one number for both, or a
            ``(connect, read)`` pair.
        retries: Retries after the first attempt, for idempotent methods only.
        backoff: Base delay of the jittered exponential backoff, in seconds.
        max_wait: The most seconds to spend waiting between attempts of one request.
        verify: ``True`` to check TLS certificates against the default CA bundle, a path to a CA bundle
            file or directory, or ``False`` to skip the check (never in production): that issues one
            :class:`InsecureTransportWarning` here, and urllib3's per-request
            ``InsecureRequestWarning`` is silenced (as ``urllib3.disable_warnings()`` would).
        pool_size: Connections kept open per host.
        auth: Credentials of the requests that carry none (``Request.auth``).

    Raises:
        ConfigurationError: A setting is out of range, or the CA bundle path does not exist.

    """

    def __init__(
        self,
        *,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        retries: int = 3,
        backoff: float = 0.25,
        max_wait: float = 30.0,
        verify: bool | str = True,
        pool_size: int = 10,
        auth: Auth | None = None,
    ) -> None:
        super().__init__(retries=retries, backoff=backoff, max_wait=max_wait, auth=auth)
        self.timeout = _check_timeout(timeout)
        if isinstance(verify, str) and not os.path.exists(verify):
            raise ConfigurationError(f"CA bundle {verify!r} does not exist")
        if pool_size < 1:
            raise ConfigurationError(f"pool_size must be >= 1, got {pool_size}")
        self.verify = verify
        if verify is False:
            warnings.warn(
                InsecureTransportWarning(
                    "TLS certificate verification is off (verify=False): anyone on the network path can"
                    " read and change the traffic, credentials included; give a CA bundle path instead"
                ),
                stacklevel=3,
            )
            # Said once, here: not again on every HTTPS request.
            warnings.filterwarnings("ignore", category=urllib3.exceptions.InsecureRequestWarning)
        self.session = requests.Session()
        self.session.auth = _keep_headers
        # Keep no cookies: Zammad authenticates a session cookie before any header (spec §1.1), so a
        # cookie from one answer could outlive a change of credentials; every request carries its own.
        self.session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        adapter = requests.adapters.HTTPAdapter(
            pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"HTTPTransport(timeout={self.timeout!r}, retries={self.retries}, auth={self.auth!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()

    def _send_once(self, method: str, url: str, headers: dict[str, str], body: bytes | None) -> Response:
        started = time.perf_counter()
        try:
            reply = self.session.request(
                method,
                url,
                data=body,
                headers=headers,
                timeout=self.timeout,
                verify=self.verify,
                # Follow redirects (http -> https, a moved host) only where repeating is harmless;
                # requests drops the Authorization header when the host changes.
                allow_redirects=method in ("GET", "HEAD"),
                stream=True,
            )
            content = _read_body(reply)
        except requests.exceptions.Timeout as exc:
            where = loggable_url(url)
            timeout = Timeout(f"{method} {where}: no answer within {self.timeout} s ({_reason(exc)})")
            timeout.request_sent = not isinstance(exc, requests.exceptions.ConnectTimeout)
            raise timeout from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
            raise ConfigurationError(f"invalid URL {url!r}: {exc}") from exc
        except requests.exceptions.InvalidSchema as exc:
            raise ConfigurationError(f"unsupported URL scheme in {url!r}: {exc}") from exc
        except requests.exceptions.ContentDecodingError as exc:
            raise DecodeError(
                f"{method} {loggable_url(url)}: the compressed body does not decode: {exc}"
            ) from exc
        except (
            requests.exceptions.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            urllib3.exceptions.HTTPError,
        ) as exc:
            failed = ConnectError(f"{method} {loggable_url(url)}: connection failed: {_reason(exc)}")
            failed.request_sent = not _never_connected(exc)
            raise failed from exc
        except requests.exceptions.RequestException as exc:  # TooManyRedirects, ...: not transient
            raise TransportError(
                f"{method} {loggable_url(url)}: {type(exc).__name__}: {_reason(exc)}"
            ) from exc
        except OSError as exc:  # a socket error requests did not wrap
            raise ConnectError(f"{method} {loggable_url(url)}: connection failed: {exc}") from exc
        return Response(
            status=reply.status_code,
            headers=reply.headers.items(),
            body=content,
            url=reply.url if reply.history else url,
            method=method,
            elapsed=time.perf_counter() - started,
        )


def _read_body(reply: requests.Response) -> bytes:
    """Read a streamed reply's whole body in one call and give its connection back to the pool.

    ``reply.content`` would read it in 10 KB chunks, each a turn of the GIL: while another thread
    decodes a page, each turn waits up to the interpreter's switch interval (5 ms), and a page of
    600 KB arrived seconds late. urllib3's errors become the ones ``reply.content`` raises.
    """
    try:
        content = reply.raw.read(decode_content=True) or b""
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ConnectionError(exc) from exc
    reply._content = content
    reply._content_consumed = True  # type: ignore[attr-defined]  # as reply.content sets it
    reply.close()  # the body is read: the connection goes back to the pool
    return content


def _never_connected(exc: BaseException) -> bool:
    """Whether the request certainly never left: no connection was made (refused, unreachable, DNS, TLS)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(
            current,
            (urllib3.exceptions.NewConnectionError, ConnectionRefusedError, requests.exceptions.SSLError),
        ):
            return True
        reason = getattr(current, "reason", None)
        inner = current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        current = reason if isinstance(reason, BaseException) else inner or current.__cause__
    return False


def _reason(exc: BaseException) -> str:
    # requests wraps urllib3's error, whose text repeats the full URL (query string included); the
    # innermost reason names host and port only, and the message already has the masked path.
    inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    return str(getattr(inner, "reason", None) or inner)


def _check_timeout(timeout: float | tuple[float, float]) -> float | tuple[float, float]:
    values = timeout if isinstance(timeout, tuple) else (timeout,)
    if len(values) not in (1, 2) or any(not isinstance(v, (int, float)) or v <= 0 for v in values):
        raise ConfigurationError(
            f"timeout must be a positive number or a (connect, read) pair, got {timeout!r}"
        )
    return timeout
