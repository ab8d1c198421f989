from explorer.app import launch

launch()
