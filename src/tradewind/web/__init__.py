"""The UI: server-rendered Jinja2 pages with htmx 2 (vendored, pinned), no build step."""
