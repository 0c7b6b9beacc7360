"""OPG's services whose figures perfplat publishes: a folder each, holding the service's declaration
(`service.py`), and the registry of them all (`registry.py`). See docs/ADDING_A_SERVICE.md."""
