"""Open data: the conclusions and decisions the chair publishes, on a public page, an Atom feed and
read-only OParl 1.1 endpoints (docs/publication.md)."""
