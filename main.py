"""Start Scan Explorer: ``python main.py`` opens the window; ``python main.py --help``."""

from explorer.app import launch

if __name__ == "__main__":
    launch()
