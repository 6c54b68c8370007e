//go:build tools

// Package tools pins helm; the binary is built with
// `go build helm.sh/helm/v3/cmd/helm` inside this module, with the version ldflags of
// helm's Makefile (tests/cluster/binaries.sh, helm_ldflags).
package tools

import _ "helm.sh/helm/v3/cmd/helm"
