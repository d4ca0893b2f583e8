"""Socket.IO handlers for votes (filled in below)."""
