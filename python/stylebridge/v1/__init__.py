"""Messages and service stubs generated from ``protos/stylebridge/v1`` by ``make proto``.

Nothing here is written by hand except this file. Only the ``convert`` modules of
``stylebridge.bridge`` and ``stylebridge.client`` and the servicers touch these types.
"""
