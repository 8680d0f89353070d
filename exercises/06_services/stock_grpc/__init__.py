"""06.4 A gRPC stock service and its client.

``stock.proto`` (in ``lessons/06_services/protos/``) is the contract; ``stock_pb2*.py`` is the
code protoc generated from it (do not edit it: regenerate it with
``uv run python lessons/06_services/protos/generate.py``). The exercise is ``server.py``
(the service) and ``client.py`` (a client with deadlines that turns status codes into
exceptions).
"""
