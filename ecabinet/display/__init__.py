"""The room display: the screen or projector in the meeting room, opened with a revocable display token
issued by the secretariat (no member account on that device), showing only what everyone in the room
may see."""
