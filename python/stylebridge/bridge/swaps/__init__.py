"""Models and swaps: the catalog folder, its registry and watcher, validation,
pushes to clients, and the backends that follow the pushed models.

Imports ``bridge.core`` only (never frames, control or serving).
"""
