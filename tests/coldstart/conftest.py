"""The model package's tests: numpy, pandas and scikit-learn only, run without Django
(`make test-unit`: `pytest -p no:django tests/coldstart`) as well as in the whole suite."""


def pytest_addoption(parser, pluginmanager):
    """pyproject.toml names pytest-django's settings module for the whole suite: without
    that plugin, the option is declared here so that it is not warned about as unknown."""
    if not pluginmanager.has_plugin("django"):
        parser.addini("DJANGO_SETTINGS_MODULE", "read by pytest-django, absent here")
