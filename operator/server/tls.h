// The serving certificate of an HTTPS listener. controller-runtime's metrics
// server takes tls.crt/tls.key from --metrics-cert-dir, or generates a
// self-signed certificate at startup when none is given; relops does the same.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "operator/base/result.h"

namespace relops::server {

// A certificate chain and its private key, PEM encoded.
struct TlsCertificate {
  std::string certificatePem;
  std::string privateKeyPem;
};

// Reads <dir>/tls.crt and <dir>/tls.key (the keys of a kubernetes.io/tls
// Secret); kConfig when either is missing or unreadable.
base::Result<TlsCertificate> loadTlsCertificate(const std::string& dir);

// A self-signed certificate (ECDSA P-256, SHA-256) for `hosts` (DNS names or
// IP addresses, as subjectAltName), valid from one hour ago for `validity`.
base::Result<TlsCertificate> generateSelfSignedCertificate(
    const std::vector<std::string>& hosts,
    std::chrono::hours validity = std::chrono::hours(24 * 365));

}  // namespace relops::server
