// engine_floor: the rate DuckDB alone reaches for a statement, in process, with
// `clients` threads each holding its own connection to one in-memory database
// (configured like Tarn's engine: parquet footers cached). No HTTP, no tokens, no
// policy, no audit: the ceiling Tarn's statement rate is compared against.
//
// usage: engine_floor SECONDS CLIENTS SQL [SETUP_SQL]   -> "rps=<statements/s> n=<count>"
#include <duckdb.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: engine_floor SECONDS CLIENTS SQL [SETUP_SQL]\n");
    return 2;
  }
  const double seconds = std::atof(argv[1]);
  const int clients = std::atoi(argv[2]);
  const std::string sql = argv[3];
  duckdb::DuckDB db(nullptr);
  {
    duckdb::Connection setup(db);
    for (std::string s : {std::string("SET parquet_metadata_cache = true"), std::string(argc > 4 ? argv[4] : "")}) {
      if (s.empty()) continue;
      auto r = setup.Query(s);
      if (r->HasError()) {
        std::fprintf(stderr, "engine_floor: %s\n", r->GetError().c_str());
        return 1;
      }
    }
  }
  std::atomic<int64_t> done{0};
  std::atomic<bool> failed{false};
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; c++) {
    threads.emplace_back([&] {
      duckdb::Connection conn(db);
      while (std::chrono::steady_clock::now() < until) {
        auto r = conn.SendQuery(sql);
        if (r->HasError()) {
          failed = true;
          return;
        }
        while (auto chunk = r->Fetch()) {
        }
        done++;
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) {
    std::fprintf(stderr, "engine_floor: the statement failed\n");
    return 1;
  }
  std::printf("rps=%.1f n=%lld\n", static_cast<double>(done) / seconds, static_cast<long long>(done.load()));
  return 0;
}
