//go:build tools

// Package tools pins the Prometheus Operator; the binary is built with
// `go build github.com/prometheus-operator/prometheus-operator/cmd/operator` inside this
// module (tests/cluster/binaries.sh). The e2e routing test runs it against the test cluster
// to render relops's AlertmanagerConfigs into a real Alertmanager's configuration.
package tools

import _ "github.com/prometheus-operator/prometheus-operator/cmd/operator"
