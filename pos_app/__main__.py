from pos_app.cli import main

raise SystemExit(main())
