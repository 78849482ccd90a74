"""Stand-ins for Consul, Nomad, Vault, Grafana, Loki, Promtail and the AWS endpoints the nodes use."""
