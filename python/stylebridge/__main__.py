"""``python -m stylebridge`` is the ``stylebridge`` command."""

from stylebridge.cli import main

if __name__ == "__main__":
    main()
