"""People, consent records and face templates, kept in one SQLite file with sealed templates."""
