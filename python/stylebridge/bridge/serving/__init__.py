"""Server assembly: the gRPC server, its interceptors (errors, the token), and the
wiring of every flow into one ``BridgeServer``.

The top of the bridge: it imports every flow, none imports it.
"""
