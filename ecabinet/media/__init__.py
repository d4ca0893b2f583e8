"""Remote attendance by audio and video through a Janus WebRTC server: one media room per meeting,
short-lived tokens by the meeting's rules, the floor deciding who is heard (docs/media.md)."""
