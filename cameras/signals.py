"""What capture announces. Later stages listen to these rather than capture importing them,
so imports keep pointing one way; kept apart from the capture code so that a listener (the
web process's live updates) need not load image libraries to hear them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after a frame is stored (kwargs: frame). The capture service sends it from its control
# thread, never a camera's (cameras.runner).
frame_stored = Signal()
# Sent when a camera's health state changes (kwargs: camera): it recovered, or it started
# failing, or it went offline. Not on every retry of a failing camera.
health_changed = Signal()
