"""08.1 Password hashing with argon2id."""

from __future__ import annotations

import pytest

from journey.targets import load

passwords = load(__file__, "passwords")
CHEAP = passwords.Cost(time_cost=1, memory_cost=1024, parallelism=1)
CHEAPER = passwords.Cost(time_cost=1, memory_cost=512, parallelism=1)


def test_a_hash_is_argon2id_with_the_chosen_cost_and_a_fresh_salt() -> None:
    hasher = passwords.Passwords(CHEAP)
    first, second = hasher.hash("correct horse"), hasher.hash("correct horse")
    assert first.startswith("$argon2id$"), f"use argon2id (Type.ID), got {first[:12]!r}"
    assert "m=1024,t=1,p=1" in first, (
        "the hash records the cost it was made with: pass time_cost, memory_cost and "
        f"parallelism from the Cost to PasswordHasher (got {first!r})"
    )
    assert first != second, "each hash gets a fresh random salt: the same password, two hashes"
    assert "correct horse" not in first


def test_the_right_password_verifies_and_wrong_ones_do_not() -> None:
    hasher = passwords.Passwords(CHEAP)
    stored = hasher.hash("correct horse")
    assert hasher.verify(stored, "correct horse") is True
    assert hasher.verify(stored, "correct horsE") is False, "one letter off is a wrong password"
    assert hasher.verify(stored, "") is False
    assert hasher.verify(hasher.hash("other"), "correct horse") is False


def test_verifying_never_compares_strings_by_hand() -> None:
    hasher = passwords.Passwords(CHEAP)
    stored = hasher.hash("correct horse")
    assert hasher.verify(stored, stored) is False, (
        "the stored hash itself is not the password: someone who stole the table must not "
        "be able to log in with the hashes"
    )
    assert hasher.verify("hunter2", "hunter2") is False, (
        "a stored value that is not an argon2 hash (a plaintext password from a legacy "
        "table) never verifies, even when it equals the password"
    )


@pytest.mark.parametrize(
    "damaged",
    ["", "not a hash", "$argon2id$v=19$m=1024,t=1,p=1$garbage", "$argon2id$v=19$m=1024"],
    ids=["empty", "text", "bad-salt", "cut-short"],
)
def test_a_damaged_stored_hash_is_false_not_an_exception(damaged: str) -> None:
    hasher = passwords.Passwords(CHEAP)
    good = hasher.hash("correct horse")
    assert hasher.verify(damaged, "correct horse") is False, (
        "a damaged stored hash must not crash the login (catch argon2's VerificationError "
        "and InvalidHashError, not only VerifyMismatchError)"
    )
    assert hasher.verify(good[:-6], "correct horse") is False, "a truncated hash is False"


def test_hashes_made_with_another_cost_still_verify() -> None:
    old = passwords.Passwords(CHEAPER).hash("correct horse")
    assert passwords.Passwords(CHEAP).verify(old, "correct horse") is True, (
        "the parameters are read from the stored hash: raising the cost must not lock "
        "existing users out"
    )


def test_needs_rehash_when_the_cost_changed() -> None:
    current = passwords.Passwords(CHEAP)
    assert current.needs_rehash(current.hash("pw-1")) is False
    assert current.needs_rehash(passwords.Passwords(CHEAPER).hash("pw-1")) is True, (
        "a hash made with other parameters needs a rehash"
    )


def test_verify_and_upgrade_rehashes_only_an_outdated_hash_after_a_good_password() -> None:
    current = passwords.Passwords(CHEAP)
    outdated = passwords.Passwords(CHEAPER).hash("correct horse")
    ok, new_hash = current.verify_and_upgrade(outdated, "correct horse")
    assert ok is True
    assert new_hash is not None, "the right password and an outdated hash: return a new hash"
    assert "m=1024,t=1,p=1" in new_hash
    assert current.verify(new_hash, "correct horse")
    assert current.verify_and_upgrade(new_hash, "correct horse") == (True, None), (
        "a hash with the current parameters needs no new hash"
    )
    assert current.verify_and_upgrade(outdated, "wrong") == (False, None), (
        "a wrong password never produces a new hash"
    )


def test_empty_and_oversized_passwords_are_refused_without_echoing_them() -> None:
    hasher = passwords.Passwords(CHEAP)
    with pytest.raises(ValueError, match=r"^password must"):
        hasher.hash("")
    longest = "p" * passwords.MAX_PASSWORD_LENGTH
    assert hasher.verify(hasher.hash(longest), longest), "MAX_PASSWORD_LENGTH itself is fine"
    with pytest.raises(ValueError, match=r"^password must") as caught:
        hasher.hash("q" * (passwords.MAX_PASSWORD_LENGTH + 1))
    assert "qqqq" not in str(caught.value), "an error message never contains the password"


def test_production_cost_is_at_least_owasps_minimum() -> None:
    cost = passwords.PRODUCTION
    owasp = "OWASP's minimum for argon2id is 19 MiB of memory and 2 passes"
    assert cost.memory_cost >= 19 * 1024, owasp
    assert cost.time_cost >= 2, owasp
    assert "m=19456" in passwords.Passwords().hash("x"), "the default cost is PRODUCTION"
