"""Tokens as signed JWTs (RFC 7519, HS256) through PyJWT: `sub` the user id, `role`, `cv` the
credentials version (a password or role change revokes earlier tokens), `iat`, `exp`, `iss`."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import jwt

from domain.credentials import Claims, IssuedToken
from domain.errors import Unauthenticated
from domain.model import Role, User
from domain.ports import Clock

ALGORITHM = "HS256"
ISSUER = "users-api"
SECRET_MIN_BYTES = 32  # RFC 7518, 3.2: a key at least as long as the hash
_VERIFIED_KEPT = 10_000  # tokens remembered at once; past that, all are verified again


class JwtTokens:
    def __init__(self, secret: bytes, lifetime: timedelta, clock: Clock) -> None:
        if len(secret) < SECRET_MIN_BYTES:
            raise ValueError(f"the token secret must be at least {SECRET_MIN_BYTES} bytes")
        self._secret, self._lifetime, self._clock = secret, int(lifetime.total_seconds()), clock
        # Tokens this process has verified, by their exact text: their claims and expiry (Unix
        # seconds). Checking a signature costs about 100 us; a client sends the same token again
        # and again. Only what was verified is kept, and its expiry is checked on every use.
        self._verified: dict[str, tuple[Claims, int]] = {}

    def __repr__(self) -> str:  # never the secret
        return f"{type(self).__name__}(lifetime={self._lifetime}s)"

    def issue(self, user: User) -> IssuedToken:
        now = int(self._clock().timestamp())
        claims = {
            "iss": ISSUER,
            "sub": str(user.id),
            "role": user.role.value,
            "cv": user.credentials_version,
            "iat": now,
            "exp": now + self._lifetime,
        }
        return IssuedToken(jwt.encode(claims, self._secret, algorithm=ALGORITHM), self._lifetime)

    def read(self, token: str) -> Claims:
        known = self._verified.get(token)
        if known is None:
            known = self._verify(token)
            if len(self._verified) >= _VERIFIED_KEPT:
                self._verified.clear()
            self._verified[token] = known
        claims, expires = known
        if self._clock().timestamp() >= expires:
            raise Unauthenticated("ExpiredSignatureError")
        return claims

    def _verify(self, token: str) -> tuple[Claims, int]:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],  # never the token's own choice: no `none`, no key confusion
                issuer=ISSUER,
                options={"require": ["iss", "sub", "iat", "exp"]},
            )
            return Claims(UUID(claims["sub"]), Role(claims["role"]), int(claims["cv"])), int(claims["exp"])
        except (jwt.PyJWTError, KeyError, ValueError, TypeError) as error:
            raise Unauthenticated(type(error).__name__) from None
