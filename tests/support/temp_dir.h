// A directory under $TMPDIR that lives as long as the object: for tests that
// write kubeconfigs, token files and plugin scripts.
#pragma once

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace relops::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "relops-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }

  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& relative) const { return (path_ / relative).string(); }

  // Writes `content` to path()/relative (creating parent directories) and
  // returns the full path. `executable` sets mode 0755, for scripts.
  std::string write(const std::string& relative, const std::string& content,
                    bool executable = false) const {
    const std::filesystem::path target = path_ / relative;
    std::filesystem::create_directories(target.parent_path());
    // Write to a temporary name and rename: a reader never sees half a file,
    // as with the kubelet's atomic token rotation.
    const std::filesystem::path partial = target.string() + ".partial";
    {
      std::ofstream out(partial, std::ios::binary | std::ios::trunc);
      out << content;
      if (!out) throw std::runtime_error("cannot write " + partial.string());
    }
    if (executable) ::chmod(partial.c_str(), 0755);
    std::filesystem::rename(partial, target);
    return target.string();
  }

 private:
  std::filesystem::path path_;
};

}  // namespace relops::testing
