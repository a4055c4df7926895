"""Entry script of the frozen program: the same as the `pos-app` console script."""

from pos_app.cli import main

raise SystemExit(main())
