"""Who may use Tradewind: people (users with a role, signing in to the UI) and programs
(bearer API tokens, read-only or read-write). Passwords are hashed with argon2, tokens and
session ids are stored only as hashes, and repeated failed logins are slowed down."""
