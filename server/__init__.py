"""The scene server: published tiles for everyone, uploads, builds and publishing for planners.

``create_app(settings)`` in :mod:`server.app`; ``twin serve`` runs it with uvicorn (:mod:`server.cli`).
"""
