"""The Scan workbench: build a scan program in a form, see what each step receives, run
it on a worker thread and inspect every step. The main window embeds
:class:`ScanWorkbench` as its "Scan" tab."""

__all__ = ["ScanWorkbench"]


def __getattr__(name: str):
    if name == "ScanWorkbench":  # imported on first use: stepdata and friends stay Qt-free
        from .workbench import ScanWorkbench

        return ScanWorkbench
    raise AttributeError(name)
