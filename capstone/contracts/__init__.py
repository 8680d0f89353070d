"""What the shop's services exchange, in one place: the wire contract (lessons 03, 06 and 07).

- :mod:`.catalog`, :mod:`.orders`, :mod:`.notifications`: the JSON bodies of the internal HTTP
  APIs (pydantic models), which the gateway validates and forwards as they are;
- :mod:`.paging`: the page size limits and the opaque cursor of the paged lists;
- :mod:`.events`: the stream's name, its consumer group, the event envelope and its payloads;
- :mod:`.headers`: the header names a service reads or sets;
- ``inventory_pb2`` / ``inventory_pb2_grpc``: the gRPC messages and stubs generated from
  ``protos/inventory.proto`` (``uv run python -m capstone.contracts.generate``).

A service imports its peers only through this package, never their ``models`` or tables: the
gateway, for one, does not load any code of catalog, orders, inventory or notifier. Nothing here
touches a database. Importing the package loads no submodule, so a caller pays for what it uses.
"""
