from tests.integration.conftest import project  # noqa: F401 - the same Project fixture as the integration tests
