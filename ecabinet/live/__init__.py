"""Live: Socket.IO connections, presence and the meeting room."""
