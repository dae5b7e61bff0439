#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include "cli/cli.h"

int main(int argc, char** argv) {
  // Everything Tarn writes (metadata, lake files, audit, keys, results) is private
  // to its user unless TARN_UMASK (octal, e.g. 027) says otherwise.
  mode_t mask = 077;
  if (const char* env = std::getenv("TARN_UMASK")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 8);
    if (end && *end == '\0' && *env && v >= 0 && v <= 0777) mask = static_cast<mode_t>(v);
  }
  umask(mask);
  return tarn::cli::Main(argc, argv);
}
