"""``python -m ecabinet``: the flask CLI bound to this app (used by make and by tests)."""

from flask.cli import FlaskGroup

from ecabinet import create_app


def main() -> None:
    FlaskGroup(create_app=lambda: create_app())(prog_name="ecabinet")


if __name__ == "__main__":
    main()
