"""The HTTP server and its page: the same ``analyze`` as the window and the CLI, over HTTP. Imports core only."""
