"""StyleBridge: a Python <-> Unity bridge for real-time neural style transfer.

Optimize a TransformerNet into engine-compatible variants, run it beside Unity's
Barracuda/Sentis over gRPC with both timings side by side, hot-swap models into a
running scene, and gate CI on in-engine performance.
"""

__version__ = "0.1.0"

# The bridge protocol this package speaks; checked at Hello on both sides.
PROTOCOL_VERSION = 1
