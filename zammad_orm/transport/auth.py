"""Credentials: the ``Authorization`` header of every request, never shown in ``repr`` or logs."""

from __future__ import annotations

import base64
import hashlib

from zammad_orm.errors import ConfigurationError

__all__ = ["Auth", "BasicAuth", "BearerAuth", "TokenAuth", "make_auth"]


class Auth:
    """Credentials that put an ``Authorization`` header on every request.

    Subclasses implement :meth:`apply`; their ``repr`` never shows the secret.
    """

    __slots__ = ()

    def apply(self, headers: dict[str, str]) -> None:
        """Add the credentials to ``headers`` (in place)."""
        raise NotImplementedError

    @property
    def identity(self) -> str:
        """A stable string naming the credentials without revealing them (for cache namespaces)."""
        raise NotImplementedError


def _fingerprint(kind: str, secret: str) -> str:
    return f"{kind}:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


def _require_text(kind: str, name: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(f"{kind} needs a non-empty string {name}")
    return value


class TokenAuth(Auth):
    """A Zammad API access token: ``Authorization: Token token=<token>``.

    Args:
        token: The personal access token.

    """

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = _require_text("TokenAuth", "token", token)

    def apply(self, headers: dict[str, str]) -> None:
        """Set ``Authorization: Token token=<token>``."""
        headers["Authorization"] = f"Token token={self._token}"

    @property
    def identity(self) -> str:
        """``token:`` and a short hash of the token."""
        return _fingerprint("token", self._token)

    def __repr__(self) -> str:
        return "TokenAuth(token='***')"


class BearerAuth(Auth):
    """An OAuth2 access token: ``Authorization: Bearer <token>``.

    Args:
        token: The OAuth2 access token.

    """

    __slots__ = ("_token",)

    def __init__(self, token: str) -> None:
        self._token = _require_text("BearerAuth", "token", token)

    def apply(self, headers: dict[str, str]) -> None:
        """Set ``Authorization: Bearer <token>``."""
        headers["Authorization"] = f"Bearer {self._token}"

    @property
    def identity(self) -> str:
        """``bearer:`` and a short hash of the token."""
        return _fingerprint("bearer", self._token)

    def __repr__(self) -> str:
        return "BearerAuth(token='***')"


class BasicAuth(Auth):
    """Login and password: ``Authorization: Basic base64(login:password)``.

    Args:
        username: The login or email address.
        password: The password.

    """

    __slots__ = ("_password", "username")

    def __init__(self, username: str, password: str) -> None:
        self.username = _require_text("BasicAuth", "username", username)
        self._password = _require_text("BasicAuth", "password", password)

    def apply(self, headers: dict[str, str]) -> None:
        """Set ``Authorization: Basic ...``."""
        raw = f"{self.username}:{self._password}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(raw).decode("ascii")

    @property
    def identity(self) -> str:
        """``basic:<username>`` (the login is not secret; the password never appears)."""
        return f"basic:{self.username}"

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password='***')"


def make_auth(
    http_token: str | None, username: str | None, password: str | None, oauth2_token: str | None
) -> Auth:
    """Return the credentials of a client: exactly one of a token, login and password, or an OAuth2 token.

    Raises:
        ConfigurationError: None of them, more than one kind, or a login without a password.

    """
    given = [
        name
        for name, value in (
            ("http_token", http_token),
            ("username/password", username or password),
            ("oauth2_token", oauth2_token),
        )
        if value
    ]
    if not given:
        raise ConfigurationError(
            "no credentials: give http_token, username and password, or oauth2_token"
            " (or set ZAMMAD_HTTP_TOKEN, ZAMMAD_USERNAME/ZAMMAD_PASSWORD or ZAMMAD_OAUTH2_TOKEN)"
        )
    if len(given) > 1:
        raise ConfigurationError(f"contradictory credentials: {' and '.join(given)}; give one kind")
    if http_token:
        return TokenAuth(http_token)
    if oauth2_token:
        return BearerAuth(oauth2_token)
    if not username or not password:
        raise ConfigurationError("username and password must be given together")
    return BasicAuth(username, password)
