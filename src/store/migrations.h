// The versioned schema of the metadata store. Append new migrations at the end;
// never edit one that has shipped.
#pragma once

#include <string_view>
#include <vector>

namespace tarn::store {

struct Migration {
  int version;
  std::string_view description;
  std::vector<std::string_view> statements;  // {{ID}} = auto-increment primary key
};

const std::vector<Migration>& Migrations();

}  // namespace tarn::store
