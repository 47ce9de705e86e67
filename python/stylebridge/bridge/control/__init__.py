"""Control and recording: session listings and statistics, swaps and model
listings for tools, and recording frames of a live session.

Imports ``bridge.core``, ``bridge.swaps`` and ``bridge.frames``.
"""
