"""Frames in and out: the Bridge service, the per-stream pipeline, Python inference
in the worker pool, and the message conversions of frames.

Imports ``bridge.core`` and ``bridge.swaps`` (the models a frame may name).
"""
