// The demo lake: deterministic, realistic data for trying Tarn.
//
//   sales.customers     managed   PII (name, email, phone) and a region per customer
//   sales.products      managed   200 products with prices
//   sales.orders        external  Parquet under raw/sales/orders/region=*/ (Hive-partitioned)
//   finance.ledger      managed   general-ledger entries
//   finance.bank_statements  external  CSV under raw/finance/bank_statements/
//   finance.expected_breaks  managed   the discrepancies planted between the two above
//   migration.customers_legacy / customers_migrated  managed  a migration pair (docs/validation.md)
//   migration.expected_defects  managed   the defects planted in the migrated table
//   quality             the database validations write their mismatch and summary rows to
//
// `rows` sets sales.orders' size; the ledger has rows/2 entries, customers rows/20.
// The same `rows` always gives the same data.
#pragma once

#include <cstdint>
#include <functional>

#include "session/instance.h"

namespace tarn::cli {

struct DemoDataOptions {
  int64_t rows = 100000;
  bool replace = false;  // drop existing demo databases and files first
};

// Sizes derived from DemoDataOptions::rows.
struct DemoSizes {
  int64_t orders, customers, products, ledger;
  static DemoSizes For(int64_t rows);
  // Rows CreateDemoData writes in all: the unit of its progress reports.
  uint64_t Total() const { return customers + products + orders + 2 * ledger; }
};

// Builds the demo lake in `instance`; `progress(done, step)` reports rows written
// out of DemoSizes::Total().
void CreateDemoData(session::Instance& instance, const DemoDataOptions& options,
                    const std::function<void(uint64_t, const std::string&)>& progress);

}  // namespace tarn::cli
