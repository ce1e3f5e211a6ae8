"""HTTP routers, one per audience: public, tiles (documentation of the fast path), ogc, planner, admin."""
