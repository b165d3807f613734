import unicodedata
from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from domain.errors import FieldError, InvalidInput
from domain.model import Profile, Role, User, canonical


def errors_of(**fields: str | None) -> list[tuple[str, str]]:
    with pytest.raises(InvalidInput) as raised:
        Profile.parse(fields)
    return [(error.field, error.message) for error in raised.value.errors]


@pytest.mark.parametrize("username", ["ada", "a.b", "A_1-z", "x" * 32, "0a9"])
def test_usernames_of_3_to_32_allowed_characters_are_accepted_as_entered(username: str) -> None:
    assert Profile.parse({"username": username, "email": "a@b.co"}).username == username


@pytest.mark.parametrize(
    "username", ["ab", "x" * 33, ".ada", "ada.", "_ada", "ada-", "a da", "adä", "ada!", " ada", "ada\n", ""]
)
def test_usernames_outside_the_rule_are_rejected(username: str) -> None:
    assert [field for field, _ in errors_of(username=username, email="a@b.co")] == ["username"]


@pytest.mark.parametrize("email", ["ada@example.com", "Ädä@example.com", "a.b+c@sub.example.org", "x@y.z"])
def test_emails_with_one_at_and_a_dotted_domain_are_accepted(email: str) -> None:
    assert Profile.parse({"username": "ada", "email": email}).email == email


@pytest.mark.parametrize(
    "email",
    [
        "ada",
        "ada@",
        "@example.com",
        "a@b@example.com",
        "ada@example",
        "ada@.com",
        "ada@example.",
        "a da@x.com",
        "ada@exa..mple.com",
        "a@b.c" + "o" * 250,
    ],
)
def test_malformed_emails_are_rejected(email: str) -> None:
    assert [field for field, _ in errors_of(username="ada", email=email)] == ["email"]


def test_email_is_trimmed_and_254_characters_as_sent_is_the_limit() -> None:
    # The limit counts what was sent, as the published schema's maxLength does.
    longest = "a" * 242 + "@example.com"
    assert len(longest) == 254
    assert Profile.parse({"username": "ada", "email": longest}).email == longest
    assert Profile.parse({"username": "ada", "email": f"  {longest[3:]}\u2003"}).email == longest[3:]
    assert errors_of(username="ada", email="a" + longest) == [("email", "must be at most 254 characters")]
    assert errors_of(username="ada", email=f" {longest}") == [("email", "must be at most 254 characters")]


def test_names_are_trimmed_and_blank_names_become_null() -> None:
    profile = Profile.parse(
        {"username": "ada", "email": "a@b.co", "first_name": "  Ada ", "last_name": "   "}
    )
    assert (profile.first_name, profile.last_name) == ("Ada", None)


def test_names_longer_than_100_characters_are_rejected() -> None:
    assert (
        Profile.parse({"username": "ada", "email": "a@b.co", "last_name": "é" * 100}).last_name == "é" * 100
    )
    assert errors_of(username="ada", email="a@b.co", last_name="é" * 101) == [
        ("last_name", "must be at most 100 characters")
    ]


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x7f", "\x85", "\ud800", "\t"])
def test_control_characters_and_lone_surrogates_are_rejected_in_every_field(bad: str) -> None:
    fields = {
        "username": f"ad{bad}a",
        "email": f"a{bad}@b.co",
        "first_name": f"A{bad}",
        "last_name": f"L{bad}",
    }
    assert errors_of(**fields) == [
        (field, "must not contain control characters")
        for field in ("username", "email", "first_name", "last_name")
    ]


def test_every_wrong_field_is_named_at_once_with_its_bulk_index() -> None:
    with pytest.raises(InvalidInput) as raised:
        Profile.parse({"username": None, "email": None}, index=7)
    assert raised.value.errors == (
        FieldError("username", "must not be null", 7),
        FieldError("email", "must not be null", 7),
    )


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("Ada", "ada"),
        ("ADA@EXAMPLE.COM", "ada@example.com"),
        ("Straße@x.de", "STRASSE@x.de"),
        ("Ädä@x.com", "äDÄ@x.com"),
        ("A\u0308da@x.com", "Äda@x.com"),
        ("\uff21\uff24\uff21@x.com", "ada@x.com"),  # full-width letters
    ],
)
def test_the_canonical_key_ignores_case_and_unicode_normalization(one: str, other: str) -> None:
    assert canonical(one) == canonical(other)


def test_the_canonical_key_keeps_distinct_names_distinct() -> None:
    assert canonical("ada") != canonical("adb")
    assert canonical("ä@x.com") != canonical("a@x.com")


def test_a_profile_carries_its_keys_and_search_text_but_equality_ignores_them() -> None:
    profile = Profile("Ada", "Ada@Example.com", None, "Lovelace")
    assert (profile.username_key, profile.email_key) == ("ada", "ada@example.com")
    assert profile.search_text == "ada\nada@example.com\nlovelace"
    assert profile == Profile("Ada", "Ada@Example.com", None, "Lovelace")


def test_an_ascii_key_is_what_normalizing_and_folding_make_of_it() -> None:
    """canonical() takes a shortcut for ASCII; the rule it stands for, written out independently."""
    values = [chr(code) for code in range(128)] + ["Ada.Lovelace-1815", "MiXeD_Case@Example.COM", ""]
    for value in values:
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
        assert canonical(value) == folded, repr(value)


def test_a_stored_user_is_the_user_its_fields_make() -> None:
    """`stored` fills the slots of an open twin and then makes it the frozen class (for speed): every
    field, the derived keys included, lands where the dataclass's own constructor puts it, and what
    comes out is frozen like any other user."""
    profile = Profile("Ada", "Ada@Example.com", "Ada", "Lovelace")
    again = Profile.stored(
        "Ada",
        "Ada@Example.com",
        "Ada",
        "Lovelace",
        profile.username_key,
        profile.email_key,
        profile.search_text,
    )
    now = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    values = (uuid4(), profile, now, now + timedelta(seconds=1), 7, Role.ADMIN, "$argon2id$...", 3)
    user = User(*values)
    stored = User.stored(*values)
    assert stored == user
    assert [getattr(stored, field.name) for field in fields(User)] == [*values, None]  # `shown`, unset
    assert [getattr(again, name) for name in Profile.__slots__] == [
        getattr(profile, name) for name in Profile.__slots__
    ]
    assert (type(stored), type(again)) == (User, Profile)
    assert hash(stored) == hash(user)
    with pytest.raises(FrozenInstanceError):
        stored.version = 8  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        again.email = "eve@example.com"  # type: ignore[misc]
    assert (stored.version, again.email) == (7, "Ada@Example.com")
