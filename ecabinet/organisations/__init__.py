"""The Government's ministries and agencies, in their order of precedence: reference data the other
domains link to (a user's organisation, an agenda item's presenting ministry, an action's ministry)."""
