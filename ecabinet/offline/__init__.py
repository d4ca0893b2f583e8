"""Offline packs: a member's meeting (agenda, their watermarked copies, their notes) kept encrypted on a
tablet for reading without a network, expired and wiped by rules the server recomputes at each check-in.
See docs/offline.md."""
