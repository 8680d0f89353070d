"""argon2id with argon2-cffi: hash, verify, what the hash stores, what it costs, and rehashing.

Run: uv run python lessons/08_security/examples/01_argon2_passwords.py
"""

from __future__ import annotations

import statistics
import time

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerifyMismatchError


def median_ms(hasher: PasswordHasher, runs: int = 5) -> float:
    hasher.hash("warm-up")
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        hasher.hash("correct horse battery staple")
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    # OWASP's minimum for argon2id: 19 MiB of memory, 2 passes, 1 lane
    production = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
    stored = production.hash("correct horse battery staple")
    print("stored hash:", stored)
    params = extract_parameters(stored)
    print(
        f"  it carries its own parameters: type={params.type.name} "
        f"m={params.memory_cost} KiB t={params.time_cost} p={params.parallelism}"
    )
    print("  hashing the same password again gives a new salt, so a new string:")
    print("   ", production.hash("correct horse battery staple"))
    print("  (which is why hashes are never compared with ==: verify() recomputes with the salt)")

    print("verify(right password):", production.verify(stored, "correct horse battery staple"))
    try:
        production.verify(stored, "Tr0ub4dor&3")
    except VerifyMismatchError:
        print("verify(wrong password): raises VerifyMismatchError")
    try:
        production.verify("hunter2", "hunter2")
    except InvalidHashError:
        print("verify(plaintext 'hash'): raises InvalidHashError - never accept a non-hash")

    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    print(f"median time per hash, production cost: {median_ms(production):6.1f} ms")
    print(f"median time per hash, test cost:       {median_ms(cheap):6.1f} ms")
    print("  the slowness is the point: an attacker with your table pays it per guess")

    stronger = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)
    old = cheap.hash("s3cret-pass")
    print("raise the cost; old hashes still verify:", stronger.verify(old, "s3cret-pass"))
    if stronger.check_needs_rehash(old):
        upgraded = stronger.hash("s3cret-pass")  # only now, after a good password
        print("  and are upgraded at the next good login:", upgraded[:32] + "...")


if __name__ == "__main__":
    main()
