// Kubeconfig documents (operator/kube/config.h parseKubeconfig): YAML from a user's file.
// Files a kubeconfig names (certificate-authority, token-file, ...) are read during
// parsing; inputs that could name a device or kernel file (/dev/zero, /proc/kmsg) are left
// out, since reading one blocks or never ends, which is the file's nature, not a parser
// bug. A backslash could spell those names through a YAML escape, so it is left out too.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "operator/kube/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (std::string_view risky : {"dev", "proc", "sys", "\\"}) {
    if (text.find(risky) != std::string::npos) return 0;
  }
  // Relative paths resolve against a directory that does not exist.
  const auto config = relops::kube::parseKubeconfig(text, "/nonexistent-relops-fuzz/kubeconfig");
  if (config.ok() && config->server.empty()) std::abort();
  return 0;
}
