"""Ministries' submissions (hồ sơ trình): a ministry's liaison sends a dossier, the secretariat takes it
in, returns it for revision, or makes it an agenda item or a written-opinion ballot; the ministry then
sees what was decided."""
