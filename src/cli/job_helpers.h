// Helpers of the job, application and schedule commands (job_commands.cpp,
// schedule_commands.cpp): checked ids, scripts from files, tables and exit codes.
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"

namespace tarn::cli {

// Ids and application names go into URL paths: only their own characters.
inline const std::string& Checked(const std::string& id, const char* what) {
  bool ok = !id.empty() && id.size() <= 64;
  for (unsigned char c : id) ok = ok && (std::isalnum(c) || c == '.' || c == '_' || c == '-');
  if (!ok)
    throw Error::InvalidArgument("{} '{}' is not an id: 1 to 64 of letters, digits, '.', '_' and '-'", what,
                                 id.substr(0, 64));
  return id;
}

inline std::string ReadScript(const std::string& file) {
  if (file == "-") {
    std::stringstream ss;
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error::NotFound("cannot read {}: no such file, or not readable", file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string Cell(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.is_null() ? "-" : v.dump();
}

// Rows of `fields` from each object of `list`, tab-separated under a header.
inline void PrintTable(const nlohmann::json& list, const std::vector<std::string>& fields, bool json) {
  if (json) {
    for (auto& item : list) std::cout << item.dump() << "\n";
    return;
  }
  for (size_t i = 0; i < fields.size(); i++) std::cout << (i ? "\t" : "") << fields[i];
  std::cout << "\n";
  for (auto& item : list) {
    for (size_t i = 0; i < fields.size(); i++)
      std::cout << (i ? "\t" : "") << Cell(item.value(fields[i], nlohmann::json()));
    std::cout << "\n";
  }
}

inline int ExitCodeOf(const std::string& state) {
  if (state == "SUCCESS") return 0;
  if (state == "CANCELLED") return ExitCodeFor(ErrorCode::kCancelled);
  return 1;
}

inline bool Terminal(const std::string& state) {
  return state == "SUCCESS" || state == "FAILED" || state == "CANCELLED";
}

}  // namespace tarn::cli
