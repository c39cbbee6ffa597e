"""What to tell a user whose TLS handshake with Elasticsearch failed: the settings that fix
it. Shared by the client's transport and the bulk transport, which fail differently."""

TLS_HINT = (
    "for a private CA set CONNECTORS_ES_CA_CERTS to its bundle; a server that wants a "
    "client certificate needs CONNECTORS_ES_CLIENT_CERT and CONNECTORS_ES_CLIENT_KEY; "
    "CONNECTORS_ES_VERIFY_CERTS=false skips verification (tests only)"
)
