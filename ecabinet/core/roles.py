"""The roles of the cabinet's users. Kept at the bottom so every domain's rules can name them."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    ADMIN = "admin"
    SECRETARY = "secretary"
    CHAIR = "chair"
    MEMBER = "member"
    GUEST = "guest"
    # A ministry's liaison: submits its dossiers to the Government, sees nothing else of the cabinet's work.
    LIAISON = "liaison"
