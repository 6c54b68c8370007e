#include "operator/server/tls.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

namespace relops::server {
namespace {

base::Error configError(std::string message) {
  return base::Error(base::ErrorKind::kConfig, std::move(message));
}

base::Error internalError(std::string message) {
  return base::Error(base::ErrorKind::kInternal, std::move(message));
}

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};

std::string bioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

bool isIpAddress(const std::string& host) {
  return host.find(':') != std::string::npos ||
         host.find_first_not_of("0123456789.") == std::string::npos;
}

}  // namespace

base::Result<TlsCertificate> loadTlsCertificate(const std::string& dir) {
  TlsCertificate certificate;
  const std::string certPath = dir + "/tls.crt";
  const std::string keyPath = dir + "/tls.key";
  std::optional<std::string> cert = readFile(certPath);
  if (!cert || cert->empty()) return configError("cannot read the certificate " + certPath);
  std::optional<std::string> key = readFile(keyPath);
  if (!key || key->empty()) return configError("cannot read the private key " + keyPath);
  certificate.certificatePem = std::move(*cert);
  certificate.privateKeyPem = std::move(*key);
  return certificate;
}

base::Result<TlsCertificate> generateSelfSignedCertificate(const std::vector<std::string>& hosts,
                                                           std::chrono::hours validity) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_EC_gen("P-256"));
  if (!key) return internalError("cannot generate an EC key");
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) return internalError("cannot allocate a certificate");
  X509_set_version(cert.get(), 2);  // v3
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return internalError("no randomness for a serial");
  serial[0] &= 0x7f;  // positive
  BIGNUM* serialNumber = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(serialNumber, X509_get_serialNumber(cert.get()));
  BN_free(serialNumber);
  // Backdated an hour against clock skew, as Go's GenerateSelfSignedCertKey does.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                  static_cast<long>(std::chrono::seconds(validity).count()));
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  const std::string commonName = hosts.empty() ? "relops" : hosts.front();
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("relops"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(commonName.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);

  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  std::string altNames;
  for (const std::string& host : hosts) {
    altNames +=
        (altNames.empty() ? "" : ",") + std::string(isIpAddress(host) ? "IP:" : "DNS:") + host;
  }
  std::vector<std::pair<int, std::string>> extensions = {
      {NID_basic_constraints, "critical,CA:FALSE"},
      {NID_key_usage, "critical,digitalSignature"},
      {NID_ext_key_usage, "serverAuth"},
  };
  if (!altNames.empty()) extensions.emplace_back(NID_subject_alt_name, altNames);
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (extension == nullptr) return internalError("cannot build extension " + value);
    X509_add_ext(cert.get(), extension, -1);
    X509_EXTENSION_free(extension);
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return internalError("cannot sign the certificate");
  }

  TlsCertificate out;
  std::unique_ptr<BIO, BioFree> certBio(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, BioFree> keyBio(BIO_new(BIO_s_mem()));
  if (!certBio || !keyBio || PEM_write_bio_X509(certBio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(keyBio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
          1) {
    return internalError("cannot encode the certificate");
  }
  out.certificatePem = bioText(certBio.get());
  out.privateKeyPem = bioText(keyBio.get());
  return out;
}

}  // namespace relops::server
