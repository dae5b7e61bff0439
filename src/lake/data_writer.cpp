#include "lake/data_writer.h"

#include <duckdb/parser/expression/cast_expression.hpp>
#include <duckdb/parser/expression/collate_expression.hpp>
#include <duckdb/parser/expression/positional_reference_expression.hpp>
#include <duckdb/parser/query_node/select_node.hpp>
#include <duckdb/parser/statement/select_statement.hpp>
#include <duckdb/parser/tableref/subqueryref.hpp>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "common/error.h"
#include "common/util.h"
#include "lake/keyring.h"

namespace fs = std::filesystem;

namespace tarn::lake {

duckdb::unique_ptr<duckdb::SelectStatement> CastToSchema(duckdb::unique_ptr<duckdb::SelectStatement> query,
                                                         const std::vector<Column>& schema) {
  // SELECT CAST(#1 AS t1) AS c1, ... FROM (<query>): built as a tree, never as text.
  auto node = duckdb::make_uniq<duckdb::SelectNode>();
  for (size_t i = 0; i < schema.size(); i++) {
    auto type = duckdb::TransformStringToLogicalType(schema[i].type);
    auto cast = duckdb::make_uniq<duckdb::CastExpression>(
        type, duckdb::make_uniq<duckdb::PositionalReferenceExpression>(i + 1));
    duckdb::unique_ptr<duckdb::ParsedExpression> e = std::move(cast);
    if (type.id() == duckdb::LogicalTypeId::VARCHAR) {
      // Stored strings carry no collation: drop one the query gave (COLLATE NOCASE),
      // so later comparisons (a writer's row-filter check) see what is stored.
      e = duckdb::make_uniq<duckdb::CollateExpression>("binary", std::move(e));
    }
    e->alias = schema[i].name;
    node->select_list.push_back(std::move(e));
  }
  node->from_table = duckdb::make_uniq<duckdb::SubqueryRef>(std::move(query), "tarn_source");
  auto out = duckdb::make_uniq<duckdb::SelectStatement>();
  out->node = std::move(node);
  return out;
}

namespace {

// Checks the shape of `query` against `schema` (so a mismatch fails before anything is
// written), creates `dir`, and returns the options and the query as the files store it.
engine::ParquetOptions Prepare(const Lake& lake, engine::EngineConnection& conn,
                               duckdb::unique_ptr<duckdb::SelectStatement>& query,
                               const std::vector<Column>& schema, const std::string& dir,
                               const std::string& key_id) {
  std::vector<std::string> names;
  std::vector<duckdb::LogicalType> types;
  conn.Describe(query->Copy(), names, types);
  if (names.size() != schema.size()) {
    throw Error::InvalidArgument("the query returns {} columns but the table has {}", names.size(),
                                 schema.size());
  }
  std::error_code ec;
  fs::create_directories(lake.Absolute(dir), ec);
  if (ec) throw Error::Io("cannot create {}: {}", dir, ec.message());
  engine::ParquetOptions options;
  options.key_name = key_id.empty() ? "" : Keyring::EngineKeyName(key_id);
  std::vector<Column> stored = schema;
  for (auto& c : stored) {
    c.name = c.StoredName();
    if (c.id > 0) options.field_ids.emplace_back(c.name, c.id);
  }
  query = CastToSchema(std::move(query), stored);
  return options;
}

}  // namespace

std::vector<DataFile> WriteParquetFiles(const Lake& lake, engine::EngineConnection& conn,
                                        duckdb::unique_ptr<duckdb::SelectStatement> query,
                                        const std::vector<Column>& schema, const std::string& dir,
                                        const std::vector<std::string>& partition_by,
                                        const std::string& key_id) {
  if (partition_by.empty()) return {WriteParquet(lake, conn, std::move(query), schema, dir, key_id)};
  auto options = Prepare(lake, conn, query, schema, dir, key_id);
  for (auto& p : partition_by) {
    auto it = std::find_if(schema.begin(), schema.end(), [&](const Column& c) { return c.name == p; });
    if (it == schema.end()) throw Error::Internal("partition column {} is not a column", p);
    options.partition_by.push_back(it->StoredName());
  }
  options.file_prefix = RandomHex();
  fs::path abs_dir = lake.Absolute(dir);
  // The files this write made: <dir>/<col>=<value>/.../<prefix>_<i>.parquet.
  auto written = [&] {
    std::vector<fs::path> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(abs_dir, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      auto name = it->path().filename().string();
      if (it->is_regular_file() && name.starts_with(options.file_prefix + "_") && name.ends_with(".parquet"))
        out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  std::vector<DataFile> files;
  try {
    engine::WriteParquetFile(conn, std::move(query->node), abs_dir, options);
    CrashPoint("after_data_write");
    auto paths = written();
    std::string list;
    std::set<fs::path> dirs;  // every directory from a file up to `dir`, each synced once
    for (auto& p : paths) {
      SyncPath(p);
      for (auto d = p.parent_path(); d != abs_dir && d.string().starts_with(abs_dir.string());
           d = d.parent_path())
        dirs.insert(d);
      list += (list.empty() ? "" : ", ") + engine::QuoteString(p.string());
    }
    for (auto& d : dirs) SyncPath(d);
    SyncPath(abs_dir);
    CrashPoint("after_data_sync");
    if (paths.empty()) return {};
    auto trusted = conn.Trusted();  // counts the rows of the files just written
    std::string encryption =
        options.key_name.empty()
            ? ""
            : ", encryption_config = {footer_key: " + engine::QuoteString(options.key_name) + "}";
    auto counts =
        conn.Run("SELECT filename, count(*) FROM read_parquet([" + list +
                 "], filename = true, hive_partitioning = false" + encryption + ") GROUP BY filename");
    std::map<std::string, int64_t> rows;
    for (duckdb::idx_t r = 0; r < counts->RowCount(); r++)
      rows[counts->GetValue(0, r).ToString()] = counts->GetValue(1, r).GetValue<int64_t>();
    for (auto& p : paths) {
      DataFile file;
      file.path = lake.Relative(p);
      file.row_count = rows[p.string()];
      file.byte_size = static_cast<int64_t>(fs::file_size(p));
      file.key_id = key_id;
      files.push_back(file);
    }
    return files;
  } catch (...) {
    std::error_code ec;
    for (auto& p : written()) fs::remove(p, ec);  // a failed write leaves no orphan if we can help it
    throw;
  }
}

DataFile WriteParquet(const Lake& lake, engine::EngineConnection& conn,
                      duckdb::unique_ptr<duckdb::SelectStatement> query, const std::vector<Column>& schema,
                      const std::string& dir, const std::string& key_id) {
  auto options = Prepare(lake, conn, query, schema, dir, key_id);
  fs::path abs_dir = lake.Absolute(dir);
  std::error_code ec;
  std::string rel = dir + "/" + RandomHex() + ".parquet";
  fs::path abs = lake.Absolute(rel);

  try {
    int64_t rows = engine::WriteParquetFile(conn, std::move(query->node), abs, options);
    CrashPoint("after_data_write");
    SyncPath(abs);
    SyncPath(abs_dir);
    CrashPoint("after_data_sync");
    DataFile file;
    file.path = rel;
    file.row_count = rows;
    file.byte_size = static_cast<int64_t>(fs::file_size(abs));
    file.key_id = key_id;
    return file;
  } catch (...) {
    fs::remove(abs, ec);  // a failed write leaves no orphan if we can help it
    throw;
  }
}

std::vector<DataFile> WriteParquetWith(const Lake& lake, engine::EngineConnection& conn,
                                       duckdb::unique_ptr<duckdb::SelectStatement> query,
                                       const std::vector<Column>& schema, const std::string& dir,
                                       const ParquetWrite& write) {
  auto options = Prepare(lake, conn, query, schema, dir, "");
  std::vector<fs::path> written = write(std::move(query), options);
  std::vector<DataFile> files;
  std::error_code ec;
  try {
    std::string list;
    for (auto& from : written) {
      DataFile file;
      file.path = dir + "/" + RandomHex() + ".parquet";
      fs::path to = lake.Absolute(file.path);
      MoveFile(from, to);
      files.push_back(file);
      SyncPath(to);
      list += (list.empty() ? "" : ", ") + engine::QuoteString(to.string());
    }
    SyncPath(lake.Absolute(dir));
    if (files.empty()) return {};
    auto trusted = conn.Trusted();  // footers of the files just moved in
    for (auto& f : files) {         // the table's columns under their stored names, in order: nothing else
      auto described = conn.Run("DESCRIBE SELECT * FROM read_parquet(" +
                                engine::QuoteString(lake.Absolute(f.path).string()) + ")");
      std::string got, want;
      for (duckdb::idx_t r = 0; r < described->RowCount(); r++)
        got += (r ? ", " : "") + described->GetValue(0, r).ToString();
      for (size_t c = 0; c < schema.size(); c++) want += (c ? ", " : "") + schema[c].StoredName();
      if (got != want)
        throw Error::Internal(
            "a file written for {} has the columns ({}), not the table's ({}): nothing was written", dir,
            got.substr(0, 256), want.substr(0, 256));
    }
    auto counts = conn.Run("SELECT file_name, num_rows FROM parquet_file_metadata([" + list + "])");
    std::map<std::string, int64_t> rows;
    for (duckdb::idx_t r = 0; r < counts->RowCount(); r++)
      rows[counts->GetValue(0, r).ToString()] = counts->GetValue(1, r).GetValue<int64_t>();
    std::vector<DataFile> out;
    for (auto& f : files) {
      fs::path abs = lake.Absolute(f.path);
      f.row_count = rows[abs.string()];
      f.byte_size = static_cast<int64_t>(fs::file_size(abs));
      if (f.row_count == 0)
        fs::remove(abs, ec);
      else
        out.push_back(f);
    }
    return out;
  } catch (...) {
    for (auto& f : files) fs::remove(lake.Absolute(f.path), ec);
    for (auto& from : written) fs::remove(from, ec);
    throw;
  }
}

nlohmann::json CollectStats(engine::EngineConnection& conn, const std::vector<std::string>& files,
                            const std::vector<Column>& schema) {
  nlohmann::json columns = nlohmann::json::object();
  if (files.empty()) return {{"columns", columns}};
  std::string list;
  for (auto& f : files) list += (list.empty() ? "" : ", ") + engine::QuoteString(f);
  auto trusted = conn.Trusted();  // footers of files Tarn names; no user SQL
  auto result = conn.Run(
      "SELECT path_in_schema, stats_min_value, stats_max_value, stats_null_count "
      "FROM parquet_metadata([" +
      list + "])");
  std::map<std::string, duckdb::LogicalType> types;
  for (auto& c : schema) types.emplace(c.name, duckdb::TransformStringToLogicalType(c.type));
  struct Acc {
    duckdb::Value min, max;
    int64_t nulls = 0;
    bool has_nulls = false;
  };
  std::map<std::string, Acc> acc;
  for (duckdb::idx_t r = 0; r < result->RowCount(); r++) {
    std::string col = result->GetValue(0, r).ToString();
    auto t = types.find(col);
    if (t == types.end()) continue;  // nested field or a column outside the schema
    auto& a = acc[col];
    auto fold = [&](const duckdb::Value& raw, duckdb::Value& into, bool want_min) {
      if (raw.IsNull()) return;
      duckdb::Value v;
      std::string err;
      if (!raw.TryCastAs(*conn.raw().context, t->second, v, &err)) return;
      if (into.IsNull() || (want_min ? v < into : v > into)) into = v;
    };
    fold(result->GetValue(1, r), a.min, true);
    fold(result->GetValue(2, r), a.max, false);
    auto nulls = result->GetValue(3, r);
    if (!nulls.IsNull()) {
      a.nulls += nulls.GetValue<int64_t>();
      a.has_nulls = true;
    }
  }
  for (auto& [name, a] : acc) {
    nlohmann::json c = nlohmann::json::object();
    if (!a.min.IsNull()) c["min"] = a.min.ToString();
    if (!a.max.IsNull()) c["max"] = a.max.ToString();
    if (a.has_nulls) c["null_count"] = a.nulls;
    if (!c.empty()) columns[name] = c;
  }
  return {{"columns", columns}};
}

nlohmann::json MergeStats(const nlohmann::json& a, const nlohmann::json& b,
                          const std::vector<Column>& schema) {
  nlohmann::json out = nlohmann::json::object();
  auto ca = a.value("columns", nlohmann::json::object()), cb = b.value("columns", nlohmann::json::object());
  for (auto& col : schema) {
    auto type = duckdb::TransformStringToLogicalType(col.type);
    auto x = ca.value(col.name, nlohmann::json::object()), y = cb.value(col.name, nlohmann::json::object());
    nlohmann::json m = nlohmann::json::object();
    // A side without min/max but with a null count held only nulls: the other side
    // decides. A side without either knows nothing, so neither survives.
    auto pick = [&](const char* key, bool want_min) {
      bool hx = x.contains(key), hy = y.contains(key);
      if ((!hx && !x.contains("null_count")) || (!hy && !y.contains("null_count"))) return;
      if (!hx || !hy) {
        if (hx || hy) m[key] = hx ? x[key] : y[key];
        return;
      }
      duckdb::Value vx, vy;
      std::string err;
      if (!duckdb::Value(x[key].get<std::string>()).DefaultTryCastAs(type, vx, &err) ||
          !duckdb::Value(y[key].get<std::string>()).DefaultTryCastAs(type, vy, &err)) {
        return;
      }
      m[key] = (want_min ? (vy < vx) : (vy > vx)) ? y[key] : x[key];
    };
    pick("min", true);
    pick("max", false);
    if (x.contains("null_count") && y.contains("null_count")) {
      m["null_count"] = x["null_count"].get<int64_t>() + y["null_count"].get<int64_t>();
    }
    if (!m.empty()) out[col.name] = m;
  }
  return {{"columns", out}};
}

}  // namespace tarn::lake
