"""Pictures put in by drag and drop and by pasting, as a person would."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QImage
from PySide6.QtWidgets import QApplication
from ui_helpers import wait_for_result


def drop(window, mime: QMimeData) -> bool:
    """Drag ``mime`` over the window and drop it there, through Qt's event delivery."""
    pos = QPointF(window.width() / 2, window.height() / 2)
    enter = QDragEnterEvent(  # QPoint here, QPointF for the drop: PySide6 6.11 takes nothing else
        pos.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(window, enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, event)
    return event.isAccepted()


def urls(*paths) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def test_dropping_a_file_shows_it(qtbot, window, sample):
    assert drop(window, urls(sample))
    wait_for_result(qtbot, window, sample.name)
    assert window.current_path == sample


def test_dropping_a_folder_starts_a_batch(qtbot, window, photo_folder):
    assert drop(window, urls(photo_folder))
    assert window.batch_dock.isVisible()
    # The panel's end() arrives as a queued signal after the worker's thread has stopped: wait for it too.
    qtbot.waitUntil(
        lambda: (
            len(window.batch_panel.rows()) == 3
            and not window.batch_panel.is_running()
            and window.batch_panel.title.text().startswith(("Done", "Cancelled"))
        ),
        timeout=30_000,
    )
    assert window.batch_panel.title.text().startswith("Done: 3 files")


def test_dropping_text_is_refused(window):
    mime = QMimeData()
    mime.setText("hello")
    assert not drop(window, mime)


def test_paste_a_picture_an_encoded_file_and_a_file(qtbot, window, sample_paths):
    clipboard = QApplication.clipboard()

    image = QImage(str(sample_paths[0]))  # as a program that copies pixels would
    clipboard.setImage(image)
    window.paste_action.trigger()
    result = wait_for_result(qtbot, window, "pasted picture")
    assert result.analysis.image.shape[:2] == (image.height(), image.width())
    assert window.current_path is None

    mime = QMimeData()  # encoded bytes, as a browser puts them: decoded in the worker
    mime.setData("image/png", QByteArray(_png_bytes(sample_paths[1])))
    clipboard.setMimeData(mime)
    window.paste_action.trigger()
    result = wait_for_result(qtbot, window, "pasted picture")
    assert result.analysis.image.shape[:2] == (
        QImage(str(sample_paths[1])).height(),
        QImage(str(sample_paths[1])).width(),
    )

    clipboard.setMimeData(urls(sample_paths[2]))  # a file copied in a file manager
    window.paste_action.trigger()
    wait_for_result(qtbot, window, sample_paths[2].name)

    clipboard.setText("no picture here")
    window.paste_action.trigger()
    assert "no picture" in window.statusBar().currentMessage()


def _png_bytes(path) -> bytes:
    from PySide6.QtCore import QBuffer, QIODevice

    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    QImage(str(path)).save(buffer, "PNG")
    return bytes(buffer.data())
