// Runs in every test worker before its tests: the node processes the tests start (the hook, both
// CLIs) inherit this environment. A NODE_EXTRA_CA_CERTS (set on some build machines for a registry
// proxy) makes every node start read and parse a CA bundle, ~50 ms each, and no test talks TLS.
delete process.env.NODE_EXTRA_CA_CERTS;
