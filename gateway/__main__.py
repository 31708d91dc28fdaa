"""``python -m gateway`` is the ``jumbe`` command."""

from gateway.cli import main

raise SystemExit(main())
