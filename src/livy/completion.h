// Completion of names in SQL, for Livy's POST /sessions/{id}/completion: only names
// the principal may see.
#pragma once

#include <string>
#include <vector>

#include "identity/principal.h"
#include "session/runner.h"

namespace tarn::livy {

// Candidates for the word that ends at `cursor` (a byte offset into `code`, clamped):
// "db" → databases, "db.t" → "db.table" names, a bare word → databases, SQL keywords
// and the visible columns of the tables `code` names (db.table); "db.table.c" → its
// columns. Sorted, unique, at most 100.
std::vector<std::string> CompleteNames(session::Runner& runner, const identity::Principal& principal,
                                       const std::string& code, int64_t cursor);

}  // namespace tarn::livy
