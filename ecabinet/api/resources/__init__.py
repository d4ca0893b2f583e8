"""The API's resources, one module each; importing a module adds its operations to the blueprint.
A new resource is one more module here."""

from ecabinet.api.resources import actions, documents, meetings, outcomes, submissions  # noqa: F401
