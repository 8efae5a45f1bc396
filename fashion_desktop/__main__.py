"""``python -m fashion_desktop``: opens the Fashion Lens window (see app.py for the options).

``--classify`` as the first argument runs ``fashion-classify`` instead (cli.py): the packaged app is one
executable, and its ``fashion-classify`` launcher starts it that way."""

import sys

if sys.argv[1:2] == ["--classify"]:
    from fashion_desktop.cli import main as classify

    sys.exit(classify(sys.argv[2:]))

from fashion_desktop.app import main

sys.exit(main())
