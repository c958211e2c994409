"""``python -m omnicrm`` is the ``omnicrm`` command."""

from omnicrm.cli import main

if __name__ == "__main__":
    main()
