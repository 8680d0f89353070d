"""yaml.safe_load versus yaml.load: a config file must not be able to run code.

Run: uv run python lessons/02_data_io/examples/04_yaml_safe_load.py
"""

from __future__ import annotations

import textwrap

import yaml

CONFIG = textwrap.dedent(
    """
    name: shop
    port: 8080
    debug: yes          # YAML 1.1: yes/no/on/off are booleans
    country: NO         # ... so Norway becomes False (the "Norway problem")
    version: 1.10       # a float: 1.1, the trailing zero is gone
    quoted: "1.10"      # quote values that must stay text
    hosts: [a.example.com, b.example.com]
    database:
      pool_size: 10
    """
)

# A harmless stand-in for an attack: it only prints. A real one would name os.system.
HOSTILE = 'greeting: !!python/object/apply:builtins.print ["!!! printed BY yaml.load: code ran"]\n'


def main() -> None:
    config = yaml.safe_load(CONFIG)
    print("safe_load gives plain data:")
    for key, value in config.items():
        print(f"  {key:10} {value!r:40} {type(value).__name__}")

    print("\nyaml.safe_load on a hostile document:")
    try:
        yaml.safe_load(HOSTILE)
    except yaml.YAMLError as error:  # a ConstructorError: the tag is refused
        print("  refused:", str(error).splitlines()[0])

    print("\nyaml.load with the unsafe loader on the same document:")
    loaded = yaml.load(
        HOSTILE, Loader=yaml.UnsafeLoader
    )  # never do this with input you don't control
    print("  it returned", loaded, "- the print above ran while loading")

    print("\nwriting YAML back: safe_dump, sorted keys off to keep the file's order")
    print(textwrap.indent(yaml.safe_dump(config, sort_keys=False), "  "))


if __name__ == "__main__":
    main()
