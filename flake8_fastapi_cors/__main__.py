from flake8_fastapi_cors.cli import main

raise SystemExit(main())
