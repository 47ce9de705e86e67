"""Messages and service stubs generated from ``protos/stylebridge/v1`` by ``make proto``.

Nothing here is written by hand except this file. Only ``stylebridge.bridge.convert``,
``stylebridge.client.convert`` and the servicers touch these types.
"""
