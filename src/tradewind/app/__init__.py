"""The use cases and read models the three faces share: what a person asks of a plugin
(``actions``), creating and configuring one (``configure``), calls that reach a platform
(``calls``) and what a plugin looks like to a person (``present``, ``schemas``). The API,
the UI and the CLI parse, authorize and call these; none of them imports another face."""
