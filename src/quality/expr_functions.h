// The expression language's functions (internal to quality/expr.cpp): each maps its
// compiled arguments to SQL. Adding a function is one entry in expr_functions.cpp.
#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "quality/expr.h"

namespace tarn::quality {

enum class FunctionKind { kRow, kAggregate, kWindow };

inline constexpr size_t kMany = std::numeric_limits<size_t>::max();

// One argument as written: its text when it is a lone literal (TEXT's format,
// DATEDIF's unit), and where it starts.
struct Arg {
  std::optional<std::string> literal;
  size_t at = 0;
};

struct CallContext {
  ExprMode mode;
  const WindowSpec* window;
  bool inside_aggregate;
};

struct FunctionDef {
  const char* name;
  FunctionKind kind;
  size_t min_args;
  size_t max_args;
  const char* usage;  // "ROUND(number, digits) — rounds half away from zero"
  // SQL for the call; throws kInvalidArgument (without the function's name) for a bad
  // literal argument.
  std::function<std::string(const std::vector<std::string>&, const std::vector<Arg>&, const CallContext&)>
      emit;
};

// The function `name` (any case) callable in `mode`, or null.
const FunctionDef* FindFunction(const std::string& name, ExprMode mode);

// "name" with embedded quotes doubled; 'text' likewise.
std::string QuoteName(const std::string& name);
std::string StringLiteral(const std::string& text);

}  // namespace tarn::quality
