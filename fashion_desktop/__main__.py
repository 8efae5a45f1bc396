"""``python -m fashion_desktop``: opens the Fashion Lens window (see app.py for the options)."""

import sys

from fashion_desktop.app import main

sys.exit(main())
