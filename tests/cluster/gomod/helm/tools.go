//go:build tools

// Package tools pins helm; the binary is built with
// `go build helm.sh/helm/v3/cmd/helm` inside this module.
package tools

import _ "helm.sh/helm/v3/cmd/helm"
