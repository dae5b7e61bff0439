// Planning a validation: the columns each side has, what is compared and how, and the
// script whose queries the metrics are made of (docs/validation.md, "What a run does").
#include <fmt/format.h>

#include <algorithm>

#include "common/error.h"
#include "common/util.h"
#include "quality/compare.h"
#include "quality/expr_functions.h"
#include "quality/validation_spec.h"

namespace tarn::quality {

namespace {

// What the planner works with: the spec, each side's columns, the statements so far.
class Planner {
 public:
  Planner(const ValidationSpec& spec, SchemaProbe& probe, ExternalTables* ext, bool split)
      : v_(spec), probe_(probe), ext_(ext), split_(split) {}

  ValidationPlan Plan() {
    src_cols_ = Describe(v_.source, true);
    tgt_cols_ = Describe(v_.target, false);
    ResolveKeys();
    ResolveColumns();
    ResolveCompleteness();
    plan_.name = v_.name;
    plan_.mismatch_table = v_.mismatch_name;
    Shape();
    with_ = fmt::format("WITH __s AS ({}), __t AS ({}) ", Side(true, false), Side(false, false));
    diff_with_ = with_;
    if (External()) {
      // The lake side's records of differing segments, read once for the comparison.
      bool src = IsExternal(true);
      Statement(Side(!src, true), "CREATE TEMP TABLE v_side AS ");
      diff_with_ =
          fmt::format("WITH __s AS ({}), __t AS ({}) ", src ? Side(true, true) : "SELECT * FROM v_side",
                      src ? "SELECT * FROM v_side" : Side(false, true));
      PlanExternal();
    }
    Query("counts",
          with_ + fmt::format("SELECT {} AS source_rows, {} AS target_rows", Count(true), Count(false)));
    for (bool source : {true, false}) {
      const char* side = source ? "source" : "target";
      bool remote = IsExternal(source);
      std::string rel = remote ? ext_plan_->table : source ? "__s" : "__t";
      if (ByParts()) {
        ProfileByParts(source);
      } else {
        std::string profile = ProfileSql(rel, Profiled(), keys_, source, remote);
        Query(fmt::format("profile_{}", side), remote ? Remote("__ext_profile", profile) : with_ + profile);
      }
      if (!v_.keys.empty() && v_.key_uniqueness) {
        std::string dups = DuplicatesSql(rel, keys_, source);
        if (Split()) {  // a key's records hash to one bucket: each bucket's figures, summed
          Statement(with_ + dups, fmt::format("CREATE TEMP TABLE v_keys_{} AS ", side));
          SplitLast(source, !source);
          Combine(fmt::format("keys_{}", side),
                  fmt::format(
                      "SELECT CAST(coalesce(sum(duplicate_keys), 0) AS BIGINT) AS duplicate_keys, "
                      "coalesce(sum(rows_with_duplicate_keys), 0) AS rows_with_duplicate_keys FROM v_keys_{}",
                      side));
        } else {
          Query(fmt::format("keys_{}", side), remote ? Remote("__ext_keys", dups) : with_ + dups);
        }
      }
    }
    Rules();
    Diff();
    MismatchTable();
    Query("samples", fmt::format("SELECT * EXCLUDE (__rn) FROM (SELECT *, row_number() OVER (PARTITION BY "
                                 "diff_type ORDER BY {0}) AS __rn FROM ({1})) WHERE __rn <= {2} ORDER BY {0}",
                                 MismatchOrder(Rows()), MismatchesSql(Rows()), v_.samples));
    Griffin();
    CheckThresholdMetrics(v_, plan_.shape);
    return std::move(plan_);
  }

 private:
  using Compared = ComparedColumn;

  std::vector<Column> Describe(const ValidationSide& side, bool source) {
    if (!side.connection.empty()) {
      if (!ext_)
        v_.root.Fail(source ? "source" : "target",
                     "reads a table through a connection, which only a server has: run it with tarn validate "
                     "--server (or --config tarn.toml, whose [connections] name it)");
      std::vector<Column> out;
      pg_cols_ = ext_->Describe(side);
      for (auto& c : pg_cols_) out.push_back({c.name, c.duck_type});
      return out;
    }
    // Binding the filter here makes a bad one fail the plan, naming it.
    return probe_.Describe("SELECT * FROM " + side.table +
                           (side.where.empty() ? "" : " WHERE " + side.where));
  }

  bool IsExternal(bool source) const { return !(source ? v_.source : v_.target).connection.empty(); }
  bool External() const { return IsExternal(true) || IsExternal(false); }

  // A side's record count: counted in the script, or by PostgreSQL (__ext_profile).
  std::string Count(bool source) const {
    return IsExternal(source) ? "(SELECT \"rows\" FROM __ext_profile)"
           : source           ? "(SELECT count(*) FROM __s)"
                              : "(SELECT count(*) FROM __t)";
  }

  // The value texts (for segment checksums) of one side's keys, or of its keys and
  // compared values; without keys, a record's values are its segment key.
  std::vector<std::string> Texts(bool source, bool keys_only) const {
    std::vector<std::string> out;
    auto text = [&](const std::string& name) {
      const Column* c = FindColumn(source ? src_cols_ : tgt_cols_, name);
      if (!IsExternal(source)) return LakeValueText(QuoteName(c->name), c->type);
      auto pg = std::find_if(pg_cols_.begin(), pg_cols_.end(), [&](auto& p) { return p.name == c->name; });
      return PgValueText(QuoteName(c->name), *pg);
    };
    for (auto& [s, t] : keys_) out.push_back(text(source ? s : t));
    if (!keys_only || keys_.empty()) {
      for (auto& c : cols_) out.push_back(text(source ? c.c.left : c.c.right));
    }
    return out;
  }
  std::string LakeKey(bool source) const { return SegmentKeyText(Texts(source, true), false); }

  // Records compared whatever their segment's checksum: with NULL values when NULL
  // never equals NULL, with NaN when NaN never equals NaN.
  std::string Always(bool source, bool pg) const {
    std::string out;
    for (auto& c : cols_) {
      std::string q = QuoteName(source ? c.c.left : c.c.right);
      if (!v_.null_equals_null) out += (out.empty() ? "" : " OR ") + q + " IS NULL";
      if (!v_.nan_equals_nan && c.c.floating)
        out += (out.empty() ? "" : " OR ") + (pg ? q + " = 'NaN'" : "isnan(" + q + ")");
    }
    return out;
  }
  std::string LakeAlways(bool source) const { return Always(source, false); }

  void PlanExternal() {
    bool src = IsExternal(true);
    ext_plan_ = std::make_shared<ExternalPlan>();
    ExternalPlan& e = *ext_plan_;
    const ValidationSide& side = src ? v_.source : v_.target;
    const ValidationSide& lake = src ? v_.target : v_.source;
    e.source = src;
    e.connection = side.connection;
    e.table = side.table;
    e.name = side.name;
    e.pg_key = SegmentKeyText(Texts(src, true), true);
    e.pg_record = RecordText(Texts(src, false), true);
    e.lake_key = LakeKey(!src);
    e.lake_record = RecordText(Texts(!src, false), false);
    e.lake_rel = "SELECT * FROM " + lake.table + (lake.where.empty() ? "" : " WHERE " + lake.where);
    e.pg_always = Always(src, true);
    e.lake_always = Always(!src, false);
    auto add = [&](const std::string& name) {
      for (auto& [n, t] : e.transfer) {
        if (n == name) return;
      }
      auto pg = std::find_if(pg_cols_.begin(), pg_cols_.end(), [&](auto& p) { return p.name == name; });
      e.transfer.emplace_back(name, pg->duck_type);
    };
    for (auto& [s, t] : keys_) add(src ? s : t);
    for (auto& c : cols_) add(src ? c.c.left : c.c.right);
    for (auto& [s, t] : complete_) add(src ? s : t);
    plan_.external = ext_plan_;
    plan_.shape["external"] = {{"side", src ? "source" : "target"}, {"connection", e.connection}};
  }

  // A query run in PostgreSQL before the script; the script reads its rows from `table`.
  std::string Remote(const std::string& table, const std::string& pg_sql) {
    ext_plan_->remote.emplace_back(table, pg_sql);
    return "SELECT * FROM " + table;
  }

  // The column `name` of one side; a missing one fails naming `spec` and `field`.
  const Column& Need(bool source, const std::string& name, const Spec& spec, const std::string& field) {
    const Column* c = FindColumn(source ? src_cols_ : tgt_cols_, name);
    if (!c)
      spec.Fail(field, fmt::format("the {} {} has no column '{}'", source ? "source" : "target",
                                   source ? v_.source.name : v_.target.name, name.substr(0, 64)));
    return *c;
  }

  void ResolveKeys() {
    for (auto& [s, t] : v_.keys) {
      const Column& sc = Need(true, s, v_.root, "keys");
      const Column& tc = Need(false, t, v_.root, "keys");
      if (CompareKind(sc.type) != CompareKind(tc.type))
        v_.root.Fail("keys",
                     fmt::format("key '{}' is {} in the source and {} in the target: keys must compare "
                                 "as they are",
                                 s, sc.type, tc.type));
      keys_.emplace_back(sc.name, tc.name);
    }
  }

  bool IsKey(const std::string& source_name) const {
    return std::any_of(keys_.begin(), keys_.end(),
                       [&](auto& k) { return AsciiLower(k.first) == AsciiLower(source_name); });
  }

  void ResolveColumns() {
    std::vector<ValidationColumn> wanted = v_.columns;
    if (!v_.columns_given) {
      for (auto& c : src_cols_) {
        bool excluded = std::any_of(v_.exclude.begin(), v_.exclude.end(),
                                    [&](auto& e) { return AsciiLower(e) == AsciiLower(c.name); });
        if (IsKey(c.name) || excluded) continue;
        if (!FindColumn(tgt_cols_, c.name)) {
          only_in_source_.push_back(c.name);
          continue;
        }
        ValidationColumn vc;
        vc.source = vc.target = c.name;
        vc.spec = v_.root;
        wanted.push_back(vc);
      }
      for (auto& e : v_.exclude) Need(true, e, v_.root, "exclude");
      for (auto& c : tgt_cols_) {
        bool key = std::any_of(keys_.begin(), keys_.end(), [&](auto& k) { return k.second == c.name; });
        if (!key && !FindColumn(src_cols_, c.name)) only_in_target_.push_back(c.name);
      }
    }
    for (auto& w : wanted) {
      const Spec& where = v_.columns_given ? w.spec : v_.root;
      const Column& sc = Need(true, w.source, where, v_.columns_given ? "target" : "columns");
      const Column& tc = Need(false, w.target, where, v_.columns_given ? "target" : "columns");
      Compared c = PlanCompared(w, sc, tc, where, v_.columns_given, !v_.keys.empty());
      if (c.source_type != c.target_type)
        type_changes_.push_back({{"column", sc.name}, {"source", c.source_type}, {"target", c.target_type}});
      cols_.push_back(c);
    }
    if (cols_.empty() && keys_.empty())
      v_.root.Fail("columns", "nothing to compare: the two tables share no column");
    if (v_.keys.empty() && !v_.nan_equals_nan)
      v_.root.Fail("nan_equals_nan",
                   "false needs keys: without them equal rows are grouped, and NaN groups with NaN");
  }

  void ResolveCompleteness() {
    for (auto& name : v_.completeness) {
      const Column& sc = Need(true, name, v_.root, "completeness");
      auto it = std::find_if(cols_.begin(), cols_.end(), [&](auto& c) { return c.c.left == sc.name; });
      std::string target = it != cols_.end() ? it->c.right : "";
      for (auto& [s, t] : keys_) {
        if (s == sc.name) target = t;
      }
      if (target.empty()) target = Need(false, name, v_.root, "completeness").name;
      complete_.emplace_back(sc.name, target);
    }
  }

  // A side as the comparison reads it: keys and compared columns (cast by compare_as),
  // filtered.
  std::string Side(bool source, bool diff) const {
    std::vector<std::string> list;
    std::vector<std::string> seen;
    auto add = [&](const std::string& expr, const std::string& name) {
      if (std::find(seen.begin(), seen.end(), name) != seen.end()) return;
      seen.push_back(name);
      list.push_back(expr == name ? QuoteName(name) : expr + " AS " + QuoteName(name));
    };
    for (auto& [s, t] : keys_) add(source ? s : t, source ? s : t);
    for (auto& c : cols_) {
      const std::string& name = source ? c.c.left : c.c.right;
      std::string as = c.c.kind == CompareColumn::kNumber ? "DOUBLE"
                       : c.c.kind == CompareColumn::kDate ? "DATE"
                                                          : "VARCHAR";
      bool cast = !c.compare_as.empty();
      add(cast ? fmt::format("CAST({} AS {})", QuoteName(name), as) : name, name);
    }
    for (auto& [s, t] : complete_) add(source ? s : t, source ? s : t);
    const ValidationSide& side = source ? v_.source : v_.target;
    std::string out;
    for (auto& l : list) out += (out.empty() ? "" : ", ") + l;
    if (IsExternal(source)) return fmt::format("SELECT {} FROM __ext_rows", out);
    std::string where = side.where;
    if (diff && External()) {
      // The lake side's records of the segments that differ (and those always compared).
      std::string in = fmt::format(
          "substr(md5({}), 1, (SELECT coalesce(max(length(prefix)), 0) FROM __ext_segments)) IN (SELECT "
          "prefix "
          "FROM __ext_segments)",
          LakeKey(source));
      std::string always = LakeAlways(source);
      if (!always.empty()) in = "(" + in + " OR " + always + ")";
      where = where.empty() ? in : "(" + where + ") AND " + in;
    }
    return fmt::format("SELECT {} FROM {}{}", out, side.table, where.empty() ? "" : " WHERE " + where);
  }

  // The columns profiled: keys, compared columns, completeness columns (source names).
  std::vector<ProfiledColumn> Profiled() const {
    std::vector<ProfiledColumn> out;
    auto add = [&](const std::string& s, const std::string& t, CompareColumn::Kind k) {
      for (auto& o : out) {
        if (o.source == s) return;
      }
      out.push_back({s, t, k});
    };
    for (auto& [s, t] : keys_) add(s, t, CompareKind(FindColumn(src_cols_, s)->type));
    if (!v_.profile) {
      out.clear();  // the keys' NULLs are counted anyway (null_keys)
    } else {
      for (auto& c : cols_) add(c.c.left, c.c.right, c.c.kind);
    }
    for (auto& [s, t] : complete_) add(s, t, CompareKind(FindColumn(src_cols_, s)->type));
    return out;
  }

  void Rules() {
    for (bool source : {true, false}) {
      std::string sel;
      for (size_t i = 0; i < v_.rules.size(); i++) {
        auto& r = v_.rules[i];
        if (r.on != "both" && (r.on == "source") != source) continue;
        sel += fmt::format("{}count(*) FILTER (WHERE NOT coalesce(({}), false)) AS r{}",
                           sel.empty() ? "" : ", ", r.expr, i);
      }
      if (sel.empty()) continue;
      const ValidationSide& side = source ? v_.source : v_.target;
      Query(source ? "rules_source" : "rules_target",
            fmt::format("SELECT {} FROM {}{}", sel, side.table,
                        side.where.empty() ? "" : " WHERE " + side.where));
    }
  }

  // v_diff: the records that differ, and the pairs whose values differ within the
  // columns' tolerances (so that every per-column figure comes from it, in one pass).
  // The key and compared values of one side, cast alike for hashing.
  BucketSide Hashed(bool source, const std::string& rel) const {
    BucketSide b;
    b.rel = rel;
    for (auto& [s, t] : keys_) {
      const Column* sc = FindColumn(src_cols_, s);
      const Column* tc = FindColumn(tgt_cols_, t);
      std::string as = CanonicalType(sc->type, tc->type, CompareKind(sc->type));
      std::string name = QuoteName(source ? s : t);
      b.keys.push_back(as.empty() ? name : fmt::format("CAST({} AS {})", name, as));
    }
    for (auto& c : cols_) {
      std::string as = c.compare_as.empty() ? CanonicalType(c.source_type, c.target_type, c.c.kind) : "";
      std::string name = QuoteName(source ? c.c.left : c.c.right);
      b.values.push_back(as.empty() ? name : fmt::format("CAST({} AS {})", name, as));
    }
    return b;
  }

  // Whether only the records of buckets whose checksums differ need comparing: with
  // keys, and NULL = NULL, NaN = NaN (equal records hash alike; the other options make
  // equal values differences).
  // Bucketed(): into temporary tables v_buckets, v_cs and v_ct that later queries read.
  // Split(): on a cluster, both sides lake tables, different tables whose key columns
  // have one type on both sides (they hash alike): the diff is then one statement
  // split by key, with the bucket checksums of each split bucket's records inside it.
  bool Checksums() const { return !v_.keys.empty() && v_.null_equals_null && v_.nan_equals_nan; }
  bool Bucketed() const { return Checksums() && !Split(); }
  bool Split() const {
    if (!ByParts() || v_.keys.empty()) return false;
    return std::all_of(keys_.begin(), keys_.end(), [&](auto& k) {
      return FindColumn(src_cols_, k.first)->type == FindColumn(tgt_cols_, k.second)->type;
    });
  }

  void Diff() {
    if (v_.keys.empty()) {
      auto [diff, accuracy] = MultisetDiffSql(Rows().columns, v_.null_equals_null);
      Statement(diff_with_ + diff, "CREATE TEMP TABLE v_diff AS ");
      return Query("accuracy", accuracy);
    }
    std::string with = diff_with_;
    std::string left = "__s", right = "__t";
    if (Bucketed()) {
      Statement(diff_with_ + ChangedBucketsSql(Hashed(true, "__s"), Hashed(false, "__t")),
                "CREATE TEMP TABLE v_buckets AS ");
      // Each side's records of those buckets (__in), and those whose key reads as ''
      // (NULL, or empty text: Griffin's rule pairs them across buckets), read once.
      for (bool source : {true, false}) {
        std::string in = BucketOf(Hashed(source, "").keys) + " IN (SELECT __b FROM v_buckets)", loose;
        for (auto& [sk, tk] : keys_) {
          const std::string& k = source ? sk : tk;
          bool text =
              CompareKind(FindColumn(source ? src_cols_ : tgt_cols_, k)->type) == CompareColumn::kOther;
          loose +=
              fmt::format(" OR {0} IS NULL{1}", QuoteName(k), text ? " OR " + QuoteName(k) + " = ''" : "");
        }
        Statement(diff_with_ + fmt::format("SELECT *, {0} AS __in FROM {1} WHERE {0}{2}", in,
                                           source ? "__s" : "__t", loose),
                  source ? "CREATE TEMP TABLE v_cs AS " : "CREATE TEMP TABLE v_ct AS ");
      }
      with =
          "WITH __cs AS (SELECT * EXCLUDE (__in) FROM v_cs WHERE __in), __ct AS (SELECT * EXCLUDE (__in) "
          "FROM v_ct "
          "WHERE __in), ";
      left = "__cs", right = "__ct";
    } else if (Checksums()) {  // split: a bucket's checksums cover the same keys on both sides
      with = diff_with_.substr(0, diff_with_.size() - 1) + ", __vb AS (" +
             ChangedBucketsSql(Hashed(true, "__s"), Hashed(false, "__t")) + "), ";
      for (bool source : {true, false})
        with +=
            fmt::format("{} AS (SELECT * FROM {} WHERE {} IN (SELECT __b FROM __vb)), ",
                        source ? "__cs" : "__ct", source ? "__s" : "__t", BucketOf(Hashed(source, "").keys));
      left = "__cs", right = "__ct";
    } else {
      with = diff_with_.substr(0, diff_with_.size() - 1) + ", ";
    }
    // Records equal in every column pair off first (as the options define equal).
    std::vector<ExactColumn> exact;
    for (auto& [s, t] : keys_) exact.push_back({s, t, true, true});
    for (auto& c : cols_)
      exact.push_back({c.c.left, c.c.right, v_.null_equals_null, v_.nan_equals_nan || !c.c.floating});
    with += ExactPairsRemoved(left, right, exact) + " ";
    left = "__rs", right = "__rt";
    CompareSpec cs;
    cs.left = left;
    cs.right = right;
    cs.keys = keys_;
    for (auto& c : cols_) cs.columns.push_back(c.c);
    cs.null_equals_null = v_.null_equals_null;
    cs.nan_equals_nan = v_.nan_equals_nan;
    cs.one_sided_duplicates = true;
    cs.null_keys_match = true;  // a NULL key pairs with a NULL key (null_keys counts them)
    // What remains of records sharing a key pairs up in the order of their values.
    std::vector<std::string> lv, rv;
    for (auto& c : cols_) lv.push_back(c.c.left), rv.push_back(c.c.right);
    if (!cols_.empty()) cs.order_left = ColumnList(lv), cs.order_right = ColumnList(rv);
    cs.unequal_flags = true;
    std::string raw = "FALSE";
    for (auto& c : cols_)
      raw += fmt::format(" OR {} IS DISTINCT FROM {}", QuoteName(c.c.name + "_left"),
                         QuoteName(c.c.name + "_right"));
    Statement(
        with + fmt::format("SELECT * FROM ({}) WHERE diff_type <> 'matched' OR {}", CompareSql(cs), raw),
        "CREATE TEMP TABLE v_diff AS ");
    if (Split()) SplitLast();
    std::vector<CompareColumn> columns;
    for (auto& c : cols_) columns.push_back(c.c);
    Query("accuracy", AccuracySql(columns));
  }

  RowsShape Rows() const {
    RowsShape r;
    r.keys = keys_;
    for (auto& c : cols_) r.columns.push_back(c.c);
    return r;
  }

  void MismatchTable() {
    std::vector<Column> existing;
    bool exists = true;
    try {
      existing = probe_.Describe("SELECT * FROM " + v_.mismatch_table);
    } catch (const Error& e) {
      if (e.code() != ErrorCode::kNotFound) throw;
      exists = false;
    }
    if (!exists) {
      std::string db = v_.mismatch_name.substr(0, v_.mismatch_name.find('.'));
      if (!DatabaseExists(probe_, db)) Statement("CREATE DATABASE IF NOT EXISTS " + QuoteName(db), "");
      Statement("SELECT * FROM (" + MismatchesSql(Rows()) + ") ORDER BY " + MismatchOrder(Rows()),
                "CREATE TABLE " + v_.mismatch_table + " AS ");
      return;
    }
    std::vector<std::string> want = MismatchColumns(Rows()), have;
    for (auto& c : existing) have.push_back(AsciiLower(c.name));
    for (auto& w : want) w = AsciiLower(w);
    if (want != have)
      v_.root.Fail(
          "mismatch_table",
          fmt::format("{} has other columns than this validation's mismatch rows ({}): drop it, or name "
                      "another table",
                      v_.mismatch_name, ColumnList(MismatchColumns(Rows()))));
    Statement("SELECT * FROM (" + MismatchesSql(Rows()) + ") ORDER BY " + MismatchOrder(Rows()),
              "INSERT OVERWRITE " + v_.mismatch_table + " ");
  }

  // Whole-table figures may be computed part by part of each side's files (two lake
  // tables, on an executor that splits).
  bool ByParts() const {
    return split_ && !External() && AsciiLower(v_.source.name) != AsciiLower(v_.target.name);
  }

  // A side's profile as partial figures per part of its table's files
  // (v_profile_<side>), then their combination.
  void ProfileByParts(bool source) {
    const char* side = source ? "source" : "target";
    std::string partials = fmt::format("v_profile_{}", side);
    auto p = ProfileInParts(source ? "__s" : "__t", partials, Profiled(), keys_, source,
                            [&](const std::string& q) { return probe_.Describe(with_ + q); });
    Statement(with_ + p.partial, "CREATE TEMP TABLE " + partials + " AS ");
    plan_.parts_of[plan_.statements.size() - 1] = (source ? v_.source : v_.target).name;
    Combine(fmt::format("profile_{}", side), p.combined);
  }

  // The statement just planned is split by the keys (Split()) of the sides it reads.
  void SplitLast(bool source = true, bool target = true) {
    auto& split = plan_.partitioning[plan_.statements.size() - 1];
    for (auto& [s, t] : keys_) {
      if (source) split[v_.source.name].push_back(s);
      if (target) split[v_.target.name].push_back(t);
    }
  }

  // Griffin's measure. Split: each bucket's figures (its records pair only with records
  // of equal key text, which hash to the same bucket), summed.
  void Griffin() {
    std::vector<std::pair<std::string, std::string>> all = keys_;
    for (auto& c : cols_) all.emplace_back(c.c.left, c.c.right);
    std::string total = IsExternal(true) ? Count(true) : "(SELECT count(*) FROM (" + Side(true, false) + "))";
    if (!Split()) return Query("griffin", GriffinSql(diff_with_, all, Bucketed(), total));
    Statement(GriffinSql(diff_with_, all, false, total), "CREATE TEMP TABLE v_griffin AS ");
    SplitLast();
    Combine("griffin",
            "SELECT CAST(coalesce(sum(total), 0) AS BIGINT) AS total, CAST(coalesce(sum(miss), 0) AS BIGINT) "
            "AS miss "
            "FROM v_griffin");
  }

  void Shape() {
    ShapeFacts f{keys_,           cols_,           Profiled(),    complete_,
                 only_in_source_, only_in_target_, type_changes_, Bucketed()};
    plan_.shape = ValidationShape(v_, f);
  }

  void Statement(const std::string& query, const std::string& head) {
    plan_.statements.push_back(head + query);
  }
  void Query(const std::string& part, const std::string& sql) {
    plan_.queries.push_back({plan_.statements.size(), part});
    plan_.statements.push_back(sql);
  }
  // A query over the few rows of the parts' or buckets' figures: in the server.
  void Combine(const std::string& part, const std::string& sql) {
    plan_.here.insert(plan_.statements.size());
    Query(part, sql);
  }

  const ValidationSpec& v_;
  SchemaProbe& probe_;
  ValidationPlan plan_;
  std::vector<Column> src_cols_, tgt_cols_;
  std::vector<std::pair<std::string, std::string>> keys_;  // actual names
  std::vector<Compared> cols_;
  std::vector<std::pair<std::string, std::string>> complete_;
  std::vector<std::string> only_in_source_, only_in_target_;
  std::vector<nlohmann::json> type_changes_;
  std::string with_;       // __s and __t: each side whole (a side in PostgreSQL: its rows read)
  std::string diff_with_;  // the same, but over the segments that differ when a side is in PostgreSQL
  ExternalTables* ext_;
  bool split_;                     // PlanValidation's `split`
  std::vector<PgColumn> pg_cols_;  // the PostgreSQL side's columns
  std::shared_ptr<ExternalPlan> ext_plan_;
};

}  // namespace

ValidationPlan PlanValidation(const ValidationSpec& spec, SchemaProbe& probe, ExternalTables* external,
                              bool split) {
  return Planner(spec, probe, external, split).Plan();
}

}  // namespace tarn::quality
