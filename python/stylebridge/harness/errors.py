"""Errors of the perf-test harness: the player, not the input, went wrong."""

from __future__ import annotations

import grpc

from stylebridge.errors import StyleBridgeError


class PlayerError(StyleBridgeError):
    """The player (or editor) could not be launched, crashed, or broke the protocol."""

    code = grpc.StatusCode.UNAVAILABLE


class PlayerTimeoutError(PlayerError):
    """The player did not connect or answer within the timeout."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED
