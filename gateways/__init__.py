"""Edge gateways: FIX 4.4, WebSocket/JSON and the history read model (later issues)."""
