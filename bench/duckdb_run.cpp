// duckdb_run: runs a SQL script with DuckDB alone, the baseline of bench/recon.sh.
// Each statement runs in order in one in-memory database; its wall time goes to
// stderr as "statement N: S s: <first words>", and the rows of statements that return
// any to stdout as "|"-separated lines.
//
// usage: duckdb_run [--threads N] [--memory-limit SIZE] [--temp-dir DIR] FILE
#include <duckdb.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

int main(int argc, char** argv) {
  std::string file, threads, memory, temp;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      out = argv[++i];
    };
    try {
      if (a == "--threads") {
        value(threads);
      } else if (a == "--memory-limit") {
        value(memory);
      } else if (a == "--temp-dir") {
        value(temp);
      } else {
        file = a;
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "duckdb_run: %s\n", e.what());
      return 2;
    }
  }
  std::ifstream in(file);
  if (file.empty() || !in) {
    std::fprintf(stderr, "usage: duckdb_run [--threads N] [--memory-limit SIZE] [--temp-dir DIR] FILE\n");
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  duckdb::DBConfig config;
  if (!threads.empty()) config.SetOptionByName("threads", duckdb::Value::BIGINT(std::stoll(threads)));
  if (!memory.empty()) config.SetOptionByName("memory_limit", duckdb::Value(memory));
  if (!temp.empty()) config.SetOptionByName("temp_directory", duckdb::Value(temp));
  duckdb::DuckDB db(nullptr, &config);
  duckdb::Connection conn(db);
  auto statements = conn.ExtractStatements(text.str());
  int n = 0;
  for (auto& statement : statements) {
    std::string shown = statement->ToString().substr(0, 60);
    for (auto& c : shown) c = c == '\n' ? ' ' : c;
    auto start = std::chrono::steady_clock::now();
    auto result = conn.Query(std::move(statement));
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (result->HasError()) {
      std::fprintf(stderr, "duckdb_run: statement %d failed: %s\n", n + 1, result->GetError().c_str());
      return 1;
    }
    std::fprintf(stderr, "statement %d: %.3f s: %s\n", ++n, seconds, shown.c_str());
    if (result->properties.return_type == duckdb::StatementReturnType::QUERY_RESULT) {
      for (duckdb::idx_t r = 0; r < result->RowCount(); r++) {
        for (duckdb::idx_t c = 0; c < result->ColumnCount(); c++)
          std::cout << (c ? "|" : "") << result->GetValue(c, r).ToString();
        std::cout << "\n";
      }
    }
  }
  return 0;
}
