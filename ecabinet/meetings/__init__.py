"""Meetings and agendas: the secretariat's workflow, attendance, quorum, conflicts and pre-meeting positions."""
