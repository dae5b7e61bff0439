#include "cli/demo_data.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace fs = std::filesystem;

namespace tarn::cli {

namespace {

constexpr int64_t kChunk = 1'000'000;

// A deterministic pseudo-random integer in [0, n) from a row number and a salt.
std::string Rand(const std::string& id, int salt, int64_t n) {
  return fmt::format("CAST(hash(({}) * 1000003 + {}) % {} AS BIGINT)", id, salt, n);
}

std::string Pick(const std::string& id, int salt, std::initializer_list<const char*> options) {
  std::string list;
  for (auto o : options) list += fmt::format("{}'{}'", list.empty() ? "" : ", ", o);
  return fmt::format("[{}][1 + {}]", list, Rand(id, salt, static_cast<int64_t>(options.size())));
}

// Region of a customer id: shared by customers and orders so that they agree.
std::string RegionOf(const std::string& id) {
  return Pick(id, 3, {"EU", "EU", "EU", "NA", "NA", "APAC", "LATAM"});
}

std::string CustomersQuery(int64_t from, int64_t to) {
  return fmt::format(
      "SELECT i AS customer_id, {first} AS first_name, {last} AS last_name, "
      "lower(first_name || '.' || last_name || i) || '@' || {domain} AS email, "
      "'+' || (10 + {cc}) || ' ' || lpad(CAST({num} AS VARCHAR), 9, '0') AS phone, "
      "{region} AS region, "
      "CASE region WHEN 'EU' THEN {eu} WHEN 'NA' THEN {na} WHEN 'APAC' THEN {apac} ELSE {latam} END AS "
      "country, "
      "{segment} AS segment, DATE '2019-01-01' + CAST({days} AS INTEGER) AS signup_date "
      "FROM range({from}, {to}) t(i)",
      fmt::arg("first",
               Pick("i", 1, {"Anna",  "Ben",   "Chloe", "David",  "Emma", "Farid",  "Grace", "Hugo",  "Ines",
                             "Jonas", "Kaito", "Lena",  "Mateo",  "Nora", "Omar",   "Priya", "Quinn", "Rosa",
                             "Sven",  "Tariq", "Uma",   "Viktor", "Wen",  "Ximena", "Yusuf", "Zoe"})),
      fmt::arg("last", Pick("i", 2, {"Andersen", "Bauer",    "Costa",    "Dubois", "Eriksen",  "Fischer",
                                     "Garcia",   "Huang",    "Ivanova",  "Jensen", "Kowalski", "Larsen",
                                     "Moreau",   "Nakamura", "Okafor",   "Petrov", "Rossi",    "Schmidt",
                                     "Tanaka",   "Usman",    "Virtanen", "Weber",  "Yilmaz"})),
      fmt::arg("domain", Pick("i", 4, {"example.com", "mail.test", "corp.example", "inbox.test"})),
      fmt::arg("cc", Rand("i", 5, 80)), fmt::arg("num", Rand("i", 6, 1000000000)),
      fmt::arg("region", RegionOf("i")),
      fmt::arg("eu", Pick("i", 7, {"DE", "FR", "NL", "SE", "IT", "ES", "PL", "IE"})),
      fmt::arg("na", Pick("i", 7, {"US", "US", "US", "CA", "MX"})),
      fmt::arg("apac", Pick("i", 7, {"JP", "SG", "AU", "IN", "KR"})),
      fmt::arg("latam", Pick("i", 7, {"BR", "AR", "CL", "CO"})),
      fmt::arg("segment", Pick("i", 8, {"consumer", "consumer", "smb", "enterprise"})),
      fmt::arg("days", Rand("i", 9, 2000)), fmt::arg("from", from), fmt::arg("to", to));
}

std::string ProductPrice(const std::string& id) {
  return fmt::format("CAST(5 + {} / 100.0 AS DECIMAL(10,2))", Rand(id, 11, 49500));
}

std::string ProductsQuery(int64_t n) {
  return fmt::format(
      "SELECT p AS product_id, {adj} || ' ' || {noun} || ' ' || p AS name, {category} AS category, "
      "{price} AS unit_price FROM range(1, {n}) t(p)",
      fmt::arg("adj", Pick("p", 12, {"Classic", "Smart", "Eco", "Pro", "Mini", "Ultra", "Travel"})),
      fmt::arg("noun",
               Pick("p", 13, {"Lamp", "Kettle", "Backpack", "Headphones", "Chair", "Bottle", "Keyboard"})),
      fmt::arg("category", Pick("p", 14, {"home", "electronics", "outdoor", "office", "kitchen"})),
      fmt::arg("price", ProductPrice("p")), fmt::arg("n", n + 1));
}

std::string OrdersQuery(int64_t from, int64_t to, const DemoSizes& s) {
  return fmt::format(
      "SELECT o AS order_id, c AS customer_id, p AS product_id, "
      "DATE '2023-01-01' + CAST({days} AS INTEGER) AS order_date, CAST(1 + {qty} AS INTEGER) AS quantity, "
      "{price} AS unit_price, CAST(quantity * unit_price AS DECIMAL(12,2)) AS amount, {status} AS status, "
      "{channel} AS channel, {region} AS region "
      "FROM (SELECT o, 1 + {cust} AS c, 1 + {prod} AS p FROM range({from}, {to}) t(o))",
      fmt::arg("days", Rand("o", 21, 730)), fmt::arg("qty", Rand("o", 22, 5)),
      fmt::arg("price", ProductPrice("p")),
      fmt::arg("status", Pick("o", 23,
                              {"completed", "completed", "completed", "completed", "completed", "completed",
                               "shipped", "cancelled", "returned"})),
      fmt::arg("channel", Pick("o", 24, {"web", "web", "store", "partner"})),
      fmt::arg("region", RegionOf("c")), fmt::arg("cust", Rand("o", 25, s.customers)),
      fmt::arg("prod", Rand("o", 26, s.products)), fmt::arg("from", from), fmt::arg("to", to));
}

std::string LedgerQuery(int64_t from, int64_t to) {
  return fmt::format(
      "SELECT e AS entry_id, 'TX' || lpad(CAST(e AS VARCHAR), 10, '0') AS txn_ref, {account} AS account, "
      "DATE '2024-01-01' + CAST({days} AS INTEGER) AS posted_date, "
      "CAST(({cents} - 600000) / 100.0 AS DECIMAL(14,2)) AS amount, {currency} AS currency, "
      "{counterparty} AS counterparty, 'INV-' || (100000 + {inv}) AS memo FROM range({from}, {to}) t(e)",
      fmt::arg("account", Pick("e", 31,
                               {"4000-revenue", "4000-revenue", "1200-receivables", "5000-cogs",
                                "6100-payroll", "6200-rent", "6300-software", "6400-travel"})),
      fmt::arg("days", Rand("e", 32, 365)), fmt::arg("cents", Rand("e", 33, 2000000)),
      fmt::arg("currency", Pick("e", 34, {"EUR", "EUR", "EUR", "USD", "GBP"})),
      fmt::arg("counterparty", Pick("e", 35,
                                    {"Acme GmbH", "Globex SA", "Initech Ltd", "Umbrella BV", "Stark AB",
                                     "Wayne SpA", "Tyrell KK", "Hooli Inc", "Vandelay Imports"})),
      fmt::arg("inv", Rand("e", 36, 900000)), fmt::arg("from", from), fmt::arg("to", to));
}

// Bank lines for ledger entries [from, to): the planted discrepancies are
//   e % 97 == 0   entry missing from the bank
//   e % 89 == 0   amount differs          e % 83 == 0   value date shifted 1-3 days
//   e % 251 == 0  line appears twice      plus bank-only fee lines (one per 500 entries)
std::string BankQuery(int64_t from, int64_t to) {
  return fmt::format(
      "WITH l AS ({ledger}) "
      "SELECT entry_id * 2 AS line_id, txn_ref, "
      "CASE WHEN entry_id % 83 = 0 THEN posted_date + CAST(1 + {shift} AS INTEGER) ELSE posted_date END AS "
      "value_date, "
      "CASE WHEN entry_id % 89 = 0 THEN CAST(amount + (1 + {delta}) / 100.0 AS DECIMAL(14,2)) ELSE amount "
      "END AS amount, "
      "currency, counterparty, 'SEPA ' || memo AS description FROM l WHERE entry_id % 97 <> 0 "
      "UNION ALL SELECT entry_id * 2 + 1, txn_ref, posted_date, amount, currency, counterparty, 'SEPA ' || "
      "memo "
      "FROM l WHERE entry_id % 251 = 0 AND entry_id % 97 <> 0 "
      "UNION ALL SELECT 1000000000000 + f, 'FEE' || lpad(CAST(f AS VARCHAR), 9, '0'), "
      "DATE '2024-01-01' + CAST({fee_day} AS INTEGER), CAST(-(1 + {fee}) / 100.0 AS DECIMAL(14,2)), 'EUR', "
      "'Bank', 'Account fee' FROM range({fee_from}, {fee_to}) t(f) "
      "ORDER BY line_id",
      fmt::arg("ledger", LedgerQuery(from, to)), fmt::arg("shift", Rand("entry_id", 41, 3)),
      fmt::arg("delta", Rand("entry_id", 42, 500)), fmt::arg("fee_day", Rand("f", 43, 365)),
      fmt::arg("fee", Rand("f", 44, 3000)), fmt::arg("fee_from", (from + 499) / 500),
      fmt::arg("fee_to", (to + 499) / 500));
}

std::string ExpectedBreaksQuery(int64_t ledger) {
  return fmt::format(
      "SELECT 'TX' || lpad(CAST(e AS VARCHAR), 10, '0') AS txn_ref, kind FROM range(1, {n}) t(e), "
      "(VALUES ('missing_in_bank'), ('amount_mismatch'), ('date_shift'), ('duplicate_in_bank')) k(kind) "
      "WHERE (kind = 'missing_in_bank' AND e % 97 = 0) OR (e % 97 <> 0 AND ((kind = 'amount_mismatch' AND e "
      "% 89 = 0) "
      "OR (kind = 'date_shift' AND e % 83 = 0) OR (kind = 'duplicate_in_bank' AND e % 251 = 0))) "
      "UNION ALL SELECT 'FEE' || lpad(CAST(f AS VARCHAR), 9, '0'), 'missing_in_ledger' FROM range(1, {fees}) "
      "t(f) "
      "ORDER BY txn_ref, kind",
      fmt::arg("n", ledger + 1), fmt::arg("fees", (ledger + 1 + 499) / 500));
}

// The migration pair (docs/validation.md): a legacy copy of sales.customers with a
// balance, and the "migrated" table with these defects planted:
//   id % 101 == 0  dropped                   id % 103 == 0  duplicated
//   id % 107 == 0  balance + 0.004 (within a cent's tolerance: not a defect)
//   id % 109 == 0  balance + 1..50           id % 113 == 0  last_name lost its trailing space
//   id % 127 == 0  phone NULL in the legacy table, '' in the migrated one
std::string LegacyCustomersQuery() {
  return fmt::format(
      "SELECT customer_id, first_name, CASE WHEN customer_id % 113 = 0 THEN last_name || ' ' ELSE last_name END "
      "AS last_name, email, CASE WHEN customer_id % 127 = 0 THEN NULL ELSE phone END AS phone, region, country, "
      "segment, signup_date, CAST({cents} / 100.0 AS DECIMAL(12,2)) AS balance FROM sales.customers ORDER BY "
      "customer_id",
      fmt::arg("cents", Rand("customer_id", 51, 5000000)));
}

std::string MigratedCustomersQuery() {
  return "WITH l AS (SELECT * FROM migration.customers_legacy), m AS (SELECT customer_id, first_name, "
         "rtrim(last_name) AS last_name, email, CASE WHEN customer_id % 127 = 0 THEN '' ELSE phone END AS phone, "
         "region, country, segment, signup_date, CAST(CASE WHEN customer_id % 109 = 0 THEN balance + 1 + "
         "customer_id % 50 WHEN customer_id % 107 = 0 THEN balance + 0.004 ELSE balance END AS DECIMAL(14,3)) AS "
         "balance FROM l WHERE customer_id % 101 <> 0) "
         "SELECT * FROM m UNION ALL SELECT * FROM m WHERE customer_id % 103 = 0 ORDER BY customer_id";
}

std::string ExpectedDefectsQuery() {
  return "SELECT customer_id, 'missing' AS diff_type, CAST(NULL AS VARCHAR) AS changed_columns FROM "
         "migration.customers_legacy WHERE customer_id % 101 = 0 "
         "UNION ALL SELECT customer_id, 'extra', NULL FROM migration.customers_legacy WHERE customer_id % 103 = 0 "
         "AND customer_id % 101 <> 0 "
         "UNION ALL SELECT customer_id, 'changed', concat_ws(',', CASE WHEN customer_id % 113 = 0 THEN "
         "'last_name' END, CASE WHEN customer_id % 127 = 0 THEN 'phone' END, CASE WHEN customer_id % 109 = 0 THEN "
         "'balance' END) FROM migration.customers_legacy WHERE customer_id % 101 <> 0 AND (customer_id % 109 = 0 "
         "OR customer_id % 113 = 0 OR customer_id % 127 = 0) ORDER BY ALL";
}

using Quiet = session::Drain;

}  // namespace

DemoSizes DemoSizes::For(int64_t rows) {
  return {rows, std::max<int64_t>(100, rows / 20), 200, std::max<int64_t>(1000, rows / 2)};
}

void CreateDemoData(session::Instance& instance, const DemoDataOptions& options,
                    const std::function<void(uint64_t, const std::string&)>& progress) {
  if (options.rows < 1000 || options.rows > 1'000'000'000) {
    throw Error::InvalidArgument("--rows must be between 1000 and 1000000000 (got {})", options.rows);
  }
  auto s = DemoSizes::For(options.rows);
  auto session = instance.NewSession();
  auto& cat = session->catalog();
  Quiet quiet;
  auto dbs = cat.ListDatabases();
  bool exists = std::find(dbs.begin(), dbs.end(), "sales") != dbs.end() ||
                std::find(dbs.begin(), dbs.end(), "finance") != dbs.end() ||
                std::find(dbs.begin(), dbs.end(), "migration") != dbs.end();
  if (exists && !options.replace) {
    throw Error::AlreadyExists("the demo databases already exist in {}: add --replace to build them again",
                               instance.options().data_dir.string());
  }
  session->Execute(
      "DROP DATABASE IF EXISTS sales CASCADE; DROP DATABASE IF EXISTS finance CASCADE; DROP DATABASE IF EXISTS "
      "migration CASCADE",
      quiet);
  fs::path raw = instance.lake().root() / "raw";
  std::error_code ec;
  fs::remove_all(raw / "sales" / "orders", ec);
  fs::remove_all(raw / "finance" / "bank_statements", ec);
  fs::create_directories(raw / "sales" / "orders", ec);
  fs::create_directories(raw / "finance" / "bank_statements", ec);

  uint64_t total = s.Total();
  uint64_t done = 0;
  auto engine_conn = instance.engine().Connect();

  session->Execute("CREATE DATABASE sales; CREATE DATABASE finance", quiet);
  // Managed tables, written through SQL like any user would, one commit per chunk.
  auto managed = [&](const std::string& table, int64_t count,
                     const std::function<std::string(int64_t, int64_t)>& q) {
    for (int64_t from = 1; from <= count; from += kChunk) {
      int64_t to = std::min(count + 1, from + kChunk);
      progress(done, table);
      session->Execute(
          (from == 1 ? "CREATE TABLE " + table + " AS " : "INSERT INTO " + table + " ") + q(from, to), quiet);
      done += to - from;
    }
  };
  managed("sales.customers", s.customers, CustomersQuery);
  managed("sales.products", s.products, [&](int64_t, int64_t) { return ProductsQuery(s.products); });
  managed("finance.ledger", s.ledger, LedgerQuery);
  session->Execute("CREATE TABLE finance.expected_breaks AS " + ExpectedBreaksQuery(s.ledger), quiet);
  progress(done, "migration");
  session->Execute("CREATE DATABASE migration; CREATE DATABASE IF NOT EXISTS quality;"
                   "CREATE TABLE migration.customers_legacy AS " + LegacyCustomersQuery() + ";" +
                       "CREATE TABLE migration.customers_migrated AS " + MigratedCustomersQuery() + ";" +
                       "CREATE TABLE migration.expected_defects AS " + ExpectedDefectsQuery(),
                   quiet);

  // Raw files for the external tables, as another system would have left them.
  for (int64_t from = 1, chunk = 0; from <= s.orders; from += kChunk, chunk++) {
    int64_t to = std::min(s.orders + 1, from + kChunk);
    progress(done, "raw/sales/orders");
    engine_conn->Run(fmt::format(
        "COPY ({}) TO {} (FORMAT parquet, PARTITION_BY (region), OVERWRITE_OR_IGNORE true, "
        "FILENAME_PATTERN 'part{}_{{i}}', COMPRESSION zstd)",
        OrdersQuery(from, to, s), engine::QuoteString((raw / "sales" / "orders").string()), chunk));
    done += to - from;
  }
  for (int64_t from = 1, chunk = 0; from <= s.ledger; from += kChunk, chunk++) {
    int64_t to = std::min(s.ledger + 1, from + kChunk);
    progress(done, "raw/finance/bank_statements");
    auto file = raw / "finance" / "bank_statements" / fmt::format("statement_{:04d}.csv", chunk);
    engine_conn->Run(fmt::format("COPY ({}) TO {} (FORMAT csv, HEADER true)", BankQuery(from, to),
                                 engine::QuoteString(file.string())));
    done += to - from;
  }
  session->Execute(
      "CREATE EXTERNAL TABLE sales.orders LOCATION 'raw/sales/orders' FORMAT parquet PARTITIONED BY (region);"
      "CREATE EXTERNAL TABLE finance.bank_statements LOCATION 'raw/finance/bank_statements' FORMAT csv",
      quiet);
  // A SQL script for jobs and Livy batches (docs/jobs.md, docs/livy.md).
  fs::create_directories(instance.lake().root() / "scripts", ec);
  std::ofstream(instance.lake().root() / "scripts" / "daily_revenue.sql")
      << "-- Revenue per day and region over the last 30 days of orders (the demo's batch script).\n"
         "SELECT order_date, region, count(*) AS orders, sum(amount) AS revenue\n"
         "FROM sales.orders\n"
         "WHERE status <> 'cancelled' AND order_date > (SELECT max(order_date) - 30 FROM sales.orders)\n"
         "GROUP BY ALL ORDER BY order_date, region;\n";
  progress(total, "done");
}

}  // namespace tarn::cli
