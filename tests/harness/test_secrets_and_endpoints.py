from harness.services.base import Secret, ServiceStartError, redact_url
from harness.services.es_http import ElasticsearchEndpoint
from harness.services.postgres import PostgresEndpoint


def test_secret_never_shows_itself():
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret)
    assert "hunter2" not in str(secret)
    assert "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2"


def test_postgres_endpoint_repr_and_redacted_dsn_hide_the_password():
    endpoint = PostgresEndpoint(
        "127.0.0.1", 5432, "harness", Secret("p@ss/w:rd"), "db", "15", "local"
    )
    assert "p@ss" not in repr(endpoint)
    assert endpoint.redacted_dsn() == "postgresql://harness:***@127.0.0.1:5432/db"
    # The real DSN is URL-encoded so any password survives the trip to the driver.
    assert endpoint.dsn() == "postgresql://harness:p%40ss%2Fw%3Ard@127.0.0.1:5432/db"
    assert endpoint.dsn("other").endswith("/other")


def test_elasticsearch_endpoint_hides_password():
    endpoint = ElasticsearchEndpoint(
        "http://h:9200", "9.5.4", "external", "elastic", Secret("s3cret")
    )
    assert "s3cret" not in repr(endpoint)
    assert endpoint.basic_auth() == ("elastic", "s3cret")
    assert redact_url("http://elastic:s3cret@h:9200/x") == "http://elastic:***@h:9200/x"
    assert redact_url("http://h:9200") == "http://h:9200"


def test_start_error_carries_the_log_tail():
    error = ServiceStartError("es: not ready", "line one\nline two\n")
    assert "line two" in str(error)
    assert "last lines of the service log" in str(error)
    assert error.log_tail.endswith("line two\n")
