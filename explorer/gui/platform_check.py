"""Before Qt starts: can its platform plugin load here? If not, say what is missing and how
to fix it, instead of Qt's abort ("no Qt platform plugin could be initialized").

Qt's xcb plugin (the X11 one, used on Linux desktops) links a dozen small system libraries
that a fresh Debian/Ubuntu does not have. Qt aborts the process when the plugin cannot
load, so this must run before ``QApplication`` is made. It imports no Qt, and loading the
libraries with ``ctypes`` takes a few milliseconds.
"""

from __future__ import annotations

import ctypes
import os
import sys

# shared library the xcb plugin (or Qt's GUI module) needs -> its Debian/Ubuntu package.
# The README's apt-get line and .ci/run install exactly these packages.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
}
PACKAGES = tuple(dict.fromkeys(XCB_LIBRARIES.values()))  # in order, once each
APT_COMMAND = "sudo apt-get install -y " + " ".join(PACKAGES)


def uses_xcb(env=os.environ, platform: str = sys.platform) -> bool:
    """True when Qt will try its xcb plugin: Linux, and no other platform asked for."""
    if not platform.startswith("linux"):
        return False
    asked = env.get("QT_QPA_PLATFORM", "")
    if asked:
        return asked.split(":")[0].split(";")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")  # on a Wayland session Qt picks its wayland plugin


def missing_libraries(libraries=XCB_LIBRARIES) -> list[str]:
    """The libraries in ``libraries`` that the dynamic loader cannot find."""
    missing = []
    for name in libraries:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def problem(env=os.environ, libraries=XCB_LIBRARIES) -> str | None:
    """What stops Qt's xcb plugin from starting here, with the fix; None when nothing does."""
    if not uses_xcb(env):
        return None
    missing = missing_libraries(libraries)
    if missing:
        packages = " ".join(dict.fromkeys(libraries[m] for m in missing))
        return (f"cannot open the window: Qt's X11 (xcb) platform plugin needs system libraries that "
                f"are not installed: {', '.join(missing)}.\n"
                f"On Debian/Ubuntu install them with:\n    sudo apt-get install -y {packages}\n"
                f"(or all of the README's: {APT_COMMAND}).\n"
                f"On other systems install your distribution's xcb-util-cursor, xcb-util-wm, "
                f"xcb-util-keysyms, xcb-util-image, xcb-util-renderutil and libxkbcommon-x11 packages.\n"
                f"Without a display, the command line works: python main.py --help")
    if not env.get("DISPLAY"):
        return ("cannot open the window: no X display (DISPLAY is not set). Run it on a desktop, "
                "over `ssh -X`, or under a virtual display: xvfb-run python main.py. "
                "The command line needs no display: python main.py --help")
    return None
