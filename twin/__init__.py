"""Urban digital twin: read city data and designs, build 3D Tiles 1.1, serve them.

The package follows the data flow: ``read`` → ``repair`` → ``crs`` (project) → ``mesh`` → ``tile`` →
``encode`` → ``store``. ``build`` wires these stages into one pipeline used by the CLI and the server.
"""

__version__ = "0.1.0"
