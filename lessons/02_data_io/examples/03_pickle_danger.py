"""Why you must never unpickle bytes you did not produce yourself.

Unpickling can call any function the bytes name. This demo's payload only *prints*; a real
attacker's would call os.system. The lesson: pickle is for your own caches between your own
processes, never for data that crosses a trust boundary (uploads, queues, caches others can
write). Use JSON there.

Run: uv run python lessons/02_data_io/examples/03_pickle_danger.py
"""

from __future__ import annotations

import builtins
import io
import pickle
import pickletools


class Innocent:
    """Looks like data. __reduce__ tells pickle: 'to rebuild me, call print(...)'."""

    def __reduce__(self):
        return (print, ("!!! this line was printed BY pickle.loads: it ran code from the bytes",))


class OnlyPlainData(pickle.Unpickler):
    """An allow-list unpickler: refuses every global it is not told about.

    It narrows the attack surface; it does not make pickle a safe format. Prefer JSON."""

    ALLOWED = frozenset({("builtins", "set"), ("builtins", "frozenset")})

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in self.ALLOWED:
            return getattr(builtins, name)
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")


def main() -> None:
    # Pickle round-trips almost any Python object: that is its strength and its danger.
    data = {"ids": {1, 2, 3}, "tuple": (1, "two"), "bytes": b"\x00"}
    print("plain round trip:", pickle.loads(pickle.dumps(data)) == data)

    payload = pickle.dumps(Innocent())
    print("\nthe payload is", len(payload), "bytes; what pickle will do with them:")
    pickletools.dis(payload)

    print("\ncalling pickle.loads(payload) ...")
    result = pickle.loads(payload)  # the print happens here, during loading
    print("loads returned", result, "- and the code had already run")

    print("\nthe allow-list unpickler on the same bytes:")
    try:
        OnlyPlainData(io.BytesIO(payload)).load()
    except pickle.UnpicklingError as error:
        print("  refused:", error)
    print("  but plain sets still load:", OnlyPlainData(io.BytesIO(pickle.dumps({1, 2}))).load())


if __name__ == "__main__":
    main()
