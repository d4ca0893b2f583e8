"""Minutes, conclusions and the archive: drafted from the meeting record, approved, signed, tracked."""
