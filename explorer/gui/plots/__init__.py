"""Live plots (pyqtgraph): items made once, ``setData`` from the run's buffers."""
