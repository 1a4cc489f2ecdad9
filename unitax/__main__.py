"""``python -m unitax`` runs the command line."""

from unitax.cli import main

main()
