"""The window's commands: menus, shortcuts and the toolbar, wired to the main window's methods."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle


def add_action(window: QMainWindow, text: str, slot, shortcut=None, menu: QMenu | None = None, **kw) -> QAction:
    action = QAction(text, window, **kw)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    window.addAction(action)  # shortcuts work even where the menu bar is hidden
    if menu is not None:
        menu.addAction(action)
    return action


def build_actions(w) -> None:
    """Create the menus, actions and toolbar of MainWindow ``w`` and keep the actions on it as attributes."""
    bar = w.menuBar()
    file = bar.addMenu("&File")
    w.open_action = add_action(w, "&Open…", w.open_dialog, QKeySequence.StandardKey.Open, file)
    w.recent_menu = file.addMenu("Open &Recent")
    w.recent_menu.aboutToShow.connect(w.fill_recent_menu)
    w.folder_action = add_action(w, "Classify &Folder…", w.folder_dialog, "Ctrl+Shift+O", file)
    w.paste_action = add_action(w, "&Paste Picture", w.paste, QKeySequence.StandardKey.Paste, file)
    file.addSeparator()
    w.reload_action = add_action(w, "Re&load Model", w.reload_model, None, file)
    file.addSeparator()
    add_action(w, "&Quit", w.close, QKeySequence.StandardKey.Quit, file)

    view = bar.addMenu("&View")
    view.addAction(w.overlay_action)  # made with the overlay controls, which mirror it
    view.addAction(w.batch_dock.toggleViewAction())

    view.addSeparator()
    w.picture_mode_action = add_action(w, "&Picture Mode", w.show_picture_mode, "Ctrl+1", view)
    w.camera_mode_action = add_action(w, "&Camera Mode", w.show_camera_mode, "Ctrl+2", view)

    camera = bar.addMenu("&Camera")
    for action in (w.camera_panel.start_action, w.camera_panel.stop_action, w.camera_panel.reconnect_action):
        camera.addAction(action)
    camera.addSeparator()
    for action in (w.camera_panel.mirror_action, w.camera_panel.freeze_action, w.camera_panel.snapshot_action):
        camera.addAction(action)

    go = bar.addMenu("&Go")
    w.previous_action = add_action(w, "&Previous Picture in Folder", lambda: w.step(-1), "Left", go)
    w.next_action = add_action(w, "&Next Picture in Folder", lambda: w.step(+1), "Right", go)

    help_menu = bar.addMenu("&Help")
    add_action(w, "&About Fashion Lens", w.show_about, None, help_menu)

    style = w.style()
    tools = w.addToolBar("Main")
    tools.setObjectName("mainToolbar")
    tools.setMovable(False)
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    SP = QStyle.StandardPixmap
    for action, short, icon in (
        (w.open_action, "Open", SP.SP_DialogOpenButton),
        (w.folder_action, "Classify Folder", SP.SP_DirOpenIcon),
        (w.paste_action, "Paste", None),
        (w.previous_action, "Previous", SP.SP_ArrowBack),
        (w.next_action, "Next", SP.SP_ArrowForward),
    ):
        action.setIconText(short)
        if icon is not None:
            action.setIcon(style.standardIcon(icon))
        if action is w.previous_action:
            tools.addSeparator()
        tools.addAction(action)
