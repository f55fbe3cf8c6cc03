import os

# This project uses no pydantic plugins: skip pydantic's scan of every installed package's entry
# points for them (a noticeable part of `check` and `render`, which run in a second or less).
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

from infra.cli import main

raise SystemExit(main())
