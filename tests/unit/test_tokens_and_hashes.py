"""The token signer and the password hasher: what they accept, and everything they refuse."""

import base64
import json
import warnings
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest
from pwdlib.hashers.bcrypt import BcryptHasher

from adapters.passwords import Argon2PasswordHasher
from adapters.tokens import JwtTokens
from domain.credentials import Password
from domain.errors import Unauthenticated
from domain.model import Profile, Role, User

SECRET = b"a secret of thirty-two bytes!!!!"
NOW = datetime.now(UTC)
ADA = User(uuid4(), Profile.parse({"username": "ada", "email": "ada@example.com"}), NOW, NOW, role=Role.ADMIN)


def tokens(at: datetime = NOW, secret: bytes = SECRET) -> JwtTokens:
    return JwtTokens(secret, timedelta(minutes=15), lambda: at)


def forged(claims: dict[str, object], header: dict[str, object] | None = None) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part(header or {'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def hs512() -> str:
    with warnings.catch_warnings():  # PyJWT warns that 32 bytes are short for SHA-512: not ours to use
        warnings.simplefilter("ignore")
        claims = {"iss": "users-api", "sub": str(ADA.id), "role": "admin", "cv": 1, "iat": 1, "exp": 2**40}
        return jwt.encode(claims, SECRET, algorithm="HS512")


def test_a_token_reads_back_as_its_user_role_and_credentials_version() -> None:
    # Issued now, not at NOW (the import): PyJWT checks the expiry by the wall clock, and a loaded
    # machine can take more than a token's 15 minutes from collecting this module to running it.
    signer = tokens(datetime.now(UTC))
    token = signer.issue(ADA)
    claims = signer.read(token.value)
    assert (claims.user_id, claims.role, claims.credentials_version) == (ADA.id, Role.ADMIN, 1)
    assert token.expires_in == 900
    payload = jwt.decode(token.value, SECRET, algorithms=["HS256"], issuer="users-api")
    assert payload["exp"] - payload["iat"] == 900
    assert payload["sub"] == str(ADA.id)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        "a.b.c",
        tokens(at=NOW - timedelta(minutes=16)).issue(ADA).value,  # expired
        tokens(secret=b"another secret of thirty-two b!!").issue(ADA).value,
        forged({"iss": "users-api", "sub": str(ADA.id), "role": "admin", "cv": 1, "iat": 1, "exp": 2**40}),
        jwt.encode(
            {"iss": "elsewhere", "sub": str(ADA.id), "role": "admin", "cv": 1, "iat": 1, "exp": 2**40},
            SECRET,
            algorithm="HS256",
        ),
        jwt.encode(
            {"iss": "users-api", "sub": "not-a-uuid", "role": "admin", "cv": 1, "iat": 1, "exp": 2**40},
            SECRET,
            algorithm="HS256",
        ),
        jwt.encode(
            {"iss": "users-api", "sub": str(ADA.id), "role": "root", "cv": 1, "iat": 1, "exp": 2**40},
            SECRET,
            algorithm="HS256",
        ),
        jwt.encode(
            {"iss": "users-api", "sub": str(ADA.id), "role": "admin", "iat": 1, "exp": 2**40},
            SECRET,
            algorithm="HS256",
        ),
        jwt.encode(
            {"iss": "users-api", "sub": str(ADA.id), "role": "admin", "cv": 1, "iat": 1},
            SECRET,
            algorithm="HS256",
        ),
        hs512(),  # our secret, another algorithm
    ],
    ids=[
        "empty",
        "garbage",
        "three-parts",
        "expired",
        "other-secret",
        "alg-none",
        "other-issuer",
        "bad-subject",
        "unknown-role",
        "no-cv",
        "no-exp",
        "hs512",
    ],
)
def test_anything_but_a_valid_token_of_ours_is_unauthenticated(token: str) -> None:
    with pytest.raises(Unauthenticated):
        tokens().read(token)


def test_a_tampered_token_is_unauthenticated() -> None:
    header, payload, signature = tokens().issue(ADA).value.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["cv"] = 99
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(Unauthenticated):
        tokens().read(f"{header}.{tampered}.{signature}")


def test_a_short_secret_is_refused_and_no_repr_shows_the_secret() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        JwtTokens(b"short", timedelta(minutes=15), lambda: NOW)
    assert SECRET.decode() not in repr(tokens())


async def test_a_hash_verifies_its_password_only(hasher: Argon2PasswordHasher) -> None:
    stored = await hasher.hash(Password("correct horse battery"))
    assert stored.startswith("$argon2id$")
    assert await hasher.verify(Password("correct horse battery"), stored)
    assert not await hasher.verify(Password("correct horse batterY"), stored)
    assert not await hasher.verify(Password("correct horse battery"), None)
    assert not await hasher.verify(Password("correct horse battery"), "$argon2id$broken")


async def test_bcrypt_hashes_of_other_systems_verify_as_those_systems_did(
    hasher: Argon2PasswordHasher,
) -> None:
    long = "ü" * 40  # 80 bytes: bcrypt read only the first 72
    imported = BcryptHasher(rounds=4).hash(long.encode()[:72])
    assert hasher.recognizes(imported)
    assert hasher.outdated(imported)
    assert await hasher.verify(Password(long), imported)
    assert not await hasher.verify(Password("ü" * 35), imported)


@pytest.mark.parametrize(
    "text",
    ["", "plain", "$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo", "$2b$12$short", "$1$md5crypt$x"],
)
def test_only_argon2id_and_bcrypt_hashes_are_recognized(hasher: Argon2PasswordHasher, text: str) -> None:
    assert not hasher.recognizes(text)


def test_a_token_read_before_expires_all_the_same_when_its_time_is_up() -> None:
    now = [datetime.now(UTC)]
    signer = JwtTokens(SECRET, timedelta(minutes=15), lambda: now[0])
    token = signer.issue(ADA).value
    assert signer.read(token).user_id == ADA.id  # verified, and remembered

    now[0] += timedelta(minutes=15)

    with pytest.raises(Unauthenticated):
        signer.read(token)
