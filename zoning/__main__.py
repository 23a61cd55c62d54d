"""``python -m zoning`` runs the command line."""

from zoning.cli import main

if __name__ == "__main__":
    main()
