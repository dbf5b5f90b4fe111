"""Integration templates a merchant uploaded: their source, kept per version."""
