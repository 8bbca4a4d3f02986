"""`python -m deployer` runs the CLI."""

from deployer.cli import run

run()
