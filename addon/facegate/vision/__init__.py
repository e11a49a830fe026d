"""Pure functions over numpy images: find a face, align it, judge it, turn it into a vector."""
