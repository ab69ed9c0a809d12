"""`python -m notecards` is the same as the `notecards` console script."""

from notecards.cli import main

raise SystemExit(main())
