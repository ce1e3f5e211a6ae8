"""Real-time sessions (WebSocket rooms, e.g. guided visits) on an in-process hub."""
