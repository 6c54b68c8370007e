// What a command-line program's commands share: the streams they print to and the exit codes
// they return (sysexits(3) where one fits).
#pragma once

#include <iosfwd>

namespace relops::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 64;

struct Streams {
  std::ostream& out;
  std::ostream& err;
};

}  // namespace relops::cli
