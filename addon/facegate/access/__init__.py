"""The access decision: the same path for a face and for a credential."""
