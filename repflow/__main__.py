"""``python -m repflow`` runs the command-line interface (also what ``torchrun -m repflow`` starts)."""

from repflow.cli import main

raise SystemExit(main())
