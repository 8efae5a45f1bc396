"""The Qt desktop window of Fashion Lens: widgets, the main window and the background workers."""
