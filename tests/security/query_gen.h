// Random SQL over one table, for the differential test of governance
// (differential_test.cpp). A query is kept as clauses so that a failing one can be
// shrunk; its text names the table as {T} (Bind replaces it).
//
// The table's columns as the analyst sees them: id BIGINT (unique), region VARCHAR,
// amount DECIMAL(12,2), email VARCHAR, created DATE, score INTEGER (some NULL). The
// hidden column ssn is named now and then: it must be "not found" on both sides.
//
// Every query is deterministic over a given set of rows: no order-dependent
// aggregates, window orders end on the unique id, LIMIT/OFFSET only after ORDER BY
// ALL, and no expression can fail on a visible row. The only expressions that can
// fail are the oracles, CASE WHEN <true only of a hidden cell> THEN CAST(...) END:
// they fail exactly when a hidden value reaches the expression. Literals never
// contain the planted markers ("HIDDEN-MARK", "rawlocal"), so a marker in a reply
// always comes from the data.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace tarn::testing {

struct GenQuery {
  std::string cte;  // "WITH c AS (...) " or empty
  bool distinct = false;
  std::vector<std::string> items;
  std::string from;  // with {T} for the table
  std::vector<std::string> where, group, having;
  std::string qualify;
  std::string set_op;  // with rhs
  std::shared_ptr<GenQuery> rhs;
  bool order_all = false;
  int limit = -1, offset = -1;

  std::string Render() const {
    std::string s = cte + "SELECT " + (distinct ? "DISTINCT " : "");
    for (size_t i = 0; i < items.size(); i++) s += (i ? ", " : "") + items[i];
    s += " FROM " + from;
    s += Joined(" WHERE ", where, " AND ");
    s += Joined(" GROUP BY ", group, ", ");
    s += Joined(" HAVING ", having, " AND ");
    if (!qualify.empty()) s += " QUALIFY " + qualify;
    if (rhs) s += " " + set_op + " " + rhs->Render();
    if (order_all) s += " ORDER BY ALL";
    if (limit >= 0) s += " LIMIT " + std::to_string(limit);
    if (offset >= 0) s += " OFFSET " + std::to_string(offset);
    return s;
  }
  // True when the result's row order is defined (up to identical rows).
  bool Ordered() const { return order_all; }

 private:
  static std::string Joined(const std::string& head, const std::vector<std::string>& v,
                            const std::string& sep) {
    if (v.empty()) return "";
    std::string s = head;
    for (size_t i = 0; i < v.size(); i++) s += (i ? sep : "") + v[i];
    return s;
  }
};

// `text` with every {T} replaced by `table`.
inline std::string Bind(std::string text, const std::string& table) {
  for (size_t at = text.find("{T}"); at != std::string::npos; at = text.find("{T}", at + table.size()))
    text.replace(at, 3, table);
  return text;
}

class QueryGen {
 public:
  enum class Ty { kInt, kDec, kStr, kDate, kBool };

  explicit QueryGen(uint64_t seed) : rng_(seed) {}

  GenQuery Next() {
    sub_ = 0;
    switch (Pick(9)) {
      case 0:
      case 1: return Simple();
      case 2: return Grouped();
      case 3: return Global();
      case 4: return Join();
      case 5: return Window();
      case 6: return SetOp();
      case 7: return Derived();
      default: return WithSubqueries();
    }
  }

 private:
  int Pick(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool Chance(int percent) { return Pick(100) < percent; }
  template <typename T>
  const T& One(const std::vector<T>& v) {
    return v[Pick(static_cast<int>(v.size()))];
  }
  Ty AnyValueType() { return static_cast<Ty>(Pick(4)); }

  // --- leaves ---------------------------------------------------------------------
  std::string Col(Ty t, const std::string& a) {
    if (t == Ty::kStr && Chance(1)) return a + ".ssn";  // hidden: "not found" on both sides
    switch (t) {
      case Ty::kInt: return a + (Chance(50) ? ".id" : ".score");
      case Ty::kDec: return a + ".amount";
      case Ty::kStr: return a + (Chance(50) ? ".region" : ".email");
      case Ty::kDate: return a + ".created";
      case Ty::kBool: return "(" + a + ".score IS NULL)";
    }
    return "";
  }
  std::string Lit(Ty t) {
    static const std::vector<std::string> ints = {"0",  "1",  "2",   "3",   "5",   "7",  "10",  "25",
                                                  "49", "50", "100", "150", "199", "-1", "NULL"};
    static const std::vector<std::string> decs = {"0", "1.5", "100.25", "500", "999.99", "250.5", "NULL"};
    static const std::vector<std::string> strs = {
        "'EU'", "'APAC'", "'US'", "'***@corp1.example'", "'***@corp4.example'", "''", "'x'", "'corp'",
        "'E'",  "NULL",   "'@'"};
    static const std::vector<std::string> dates = {"DATE '2020-06-01'", "DATE '2021-01-01'",
                                                   "DATE '2022-03-15'", "DATE '2023-12-31'",
                                                   "DATE '1900-03-01'"};
    switch (t) {
      case Ty::kInt: return One(ints);
      case Ty::kDec: return One(decs);
      case Ty::kStr: return One(strs);
      case Ty::kDate: return One(dates);
      case Ty::kBool: return Chance(50) ? "TRUE" : "FALSE";
    }
    return "";
  }
  std::string Cmp() { return One(std::vector<std::string>{"=", "<>", "<", "<=", ">", ">="}); }

  // --- expressions ----------------------------------------------------------------
  std::string Expr(Ty t, const std::string& a, int depth) {
    if (depth <= 0 || Chance(35)) return Chance(75) ? Col(t, a) : Lit(t);
    switch (t) {
      case Ty::kInt: return IntExpr(a, depth - 1);
      case Ty::kDec: return DecExpr(a, depth - 1);
      case Ty::kStr: return StrExpr(a, depth - 1);
      case Ty::kDate: return DateExpr(a, depth - 1);
      case Ty::kBool: return Pred(a, depth - 1);
    }
    return "";
  }
  std::string Case(Ty t, const std::string& a, int d) {
    return "CASE WHEN " + Pred(a, d) + " THEN " + Expr(t, a, d) + " ELSE " + Expr(t, a, d) + " END";
  }
  std::string Two(const std::string& f, Ty t, const std::string& a, int d) {
    return f + "(" + Expr(t, a, d) + ", " + Expr(t, a, d) + ")";
  }
  std::string IntExpr(const std::string& a, int d) {
    switch (Pick(12)) {
      case 0: return "abs(" + Expr(Ty::kInt, a, d) + ")";
      case 1: return "(" + Expr(Ty::kInt, a, d) + " + " + Expr(Ty::kInt, a, d) + ")";
      case 2: return "(" + Expr(Ty::kInt, a, d) + " * " + One(std::vector<std::string>{"2", "3", "-1"}) + ")";
      case 3: return "length(" + Expr(Ty::kStr, a, d) + ")";
      case 4:
        return One(std::vector<std::string>{"year(", "extract(month FROM ", "extract(day FROM "}) +
               Expr(Ty::kDate, a, d) + ")";
      case 5: return "coalesce(" + Expr(Ty::kInt, a, d) + ", " + Lit(Ty::kInt) + ")";
      case 6: return Two(Chance(50) ? "greatest" : "least", Ty::kInt, a, d);
      case 7: return "nullif(" + Expr(Ty::kInt, a, d) + ", " + Lit(Ty::kInt) + ")";
      case 8: return Case(Ty::kInt, a, d);
      case 9: return "(" + Expr(Ty::kInt, a, d) + " % " + One(std::vector<std::string>{"2", "3", "7"}) + ")";
      case 10: return Oracle(a);
      default: return "round(" + Expr(Ty::kDec, a, d) + ")::INTEGER";
    }
  }
  std::string DecExpr(const std::string& a, int d) {
    switch (Pick(8)) {
      case 0: return "abs(" + Expr(Ty::kDec, a, d) + ")";
      case 1: return "round(" + Expr(Ty::kDec, a, d) + ", " + (Chance(50) ? "0" : "1") + ")";
      case 2: return "(" + Expr(Ty::kDec, a, d) + " + " + Expr(Ty::kDec, a, d) + ")";
      case 3: return "(" + Expr(Ty::kDec, a, d) + " * 2)";
      case 4: return "coalesce(" + Expr(Ty::kDec, a, d) + ", 0)";
      case 5: return Two(Chance(50) ? "greatest" : "least", Ty::kDec, a, d);
      case 6: return Case(Ty::kDec, a, d);
      default: return "CAST(" + Expr(Ty::kInt, a, d) + " AS DECIMAL(12,2))";
    }
  }
  std::string StrExpr(const std::string& a, int d) {
    switch (Pick(10)) {
      case 0: return std::string(Chance(50) ? "lower(" : "upper(") + Expr(Ty::kStr, a, d) + ")";
      case 1:
        return "substr(" + Expr(Ty::kStr, a, d) + ", " + One(std::vector<std::string>{"1", "2", "4"}) + ", " +
               One(std::vector<std::string>{"1", "3", "8"}) + ")";
      case 2: return "(" + Expr(Ty::kStr, a, d) + " || " + Expr(Ty::kStr, a, d) + ")";
      case 3: return Two("concat", Ty::kStr, a, d);
      case 4: return "coalesce(" + Expr(Ty::kStr, a, d) + ", " + Lit(Ty::kStr) + ")";
      case 5: return "nullif(" + Expr(Ty::kStr, a, d) + ", " + Lit(Ty::kStr) + ")";
      case 6: return Case(Ty::kStr, a, d);
      case 7: return "strftime(" + Expr(Ty::kDate, a, d) + ", '%Y-%m')";
      case 8: return "CAST(" + Expr(Ty::kInt, a, d) + " AS VARCHAR)";
      default: return Two(Chance(50) ? "greatest" : "least", Ty::kStr, a, d);
    }
  }
  std::string DateExpr(const std::string& a, int d) {
    switch (Pick(5)) {
      case 0:
        return "(" + Expr(Ty::kDate, a, d) + " + " + One(std::vector<std::string>{"1", "30", "365"}) + ")";
      case 1:
        return "CAST(date_trunc('" + One(std::vector<std::string>{"month", "year", "week"}) + "', " +
               Expr(Ty::kDate, a, d) + ") AS DATE)";
      case 2: return "coalesce(" + Expr(Ty::kDate, a, d) + ", DATE '2000-01-01')";
      case 3: return Two(Chance(50) ? "greatest" : "least", Ty::kDate, a, d);
      default: return Case(Ty::kDate, a, d);
    }
  }
  // Fails (a conversion error naming the hidden value) iff a hidden cell reaches it;
  // 0 for every visible row.
  std::string Oracle(const std::string& a) {
    static const std::vector<std::string> when = {
        "{a}.amount > 500000",      "{a}.score > 70000",     "{a}.created < DATE '1950-01-01'",
        "{a}.email LIKE 'HIDDEN%'", "{a}.region LIKE 'US%'", "{a}.email LIKE '%US-%'"};
    static const std::vector<std::string> then = {"{a}.region", "{a}.email", "{a}.email || 'x'"};
    std::string s = "(CASE WHEN " + One(when) + " THEN CAST(" + One(then) + " AS INTEGER) ELSE 0 END)";
    for (size_t at = s.find("{a}"); at != std::string::npos; at = s.find("{a}", at)) s.replace(at, 3, a);
    return s;
  }

  // --- predicates ------------------------------------------------------------------
  std::string Pred(const std::string& a, int d) {
    int n = d > 0 ? 13 : 8;
    switch (Pick(n)) {
      case 0: {
        Ty t = AnyValueType();
        return Expr(t, a, d) + " " + Cmp() + " " + (Chance(50) ? Lit(t) : Expr(t, a, d));
      }
      case 1: {
        Ty t = static_cast<Ty>(Pick(3) == 0 ? 0 : (Pick(2) ? 1 : 3));
        std::string lo = Lit(t), hi = Lit(t);
        return Expr(t, a, d) + (Chance(20) ? " NOT" : "") + " BETWEEN " + lo + " AND " + hi;
      }
      case 2: {
        Ty t = Chance(50) ? Ty::kInt : Ty::kStr;
        return Expr(t, a, d) + (Chance(20) ? " NOT IN (" : " IN (") + Lit(t) + ", " + Lit(t) + ", " + Lit(t) +
               ")";
      }
      case 3: {
        static const std::vector<std::string> pats = {"'E%'",      "'%U'",       "'***%'",    "'rawloc%'",
                                                      "'%corp2%'", "'_P%'",      "'HIDDEN%'", "'%US%'",
                                                      "'%@%'",     "'%.example'"};
        return Expr(Ty::kStr, a, d) + " " + One(std::vector<std::string>{"LIKE", "NOT LIKE", "ILIKE"}) + " " +
               One(pats);
      }
      case 4: return Expr(AnyValueType(), a, d) + (Chance(50) ? " IS NULL" : " IS NOT NULL");
      case 5: return Oracle(a) + " = 0";
      case 6: return "(" + Col(Ty::kBool, a) + ")";
      case 7: return Col(Ty::kDec, a) + " " + Cmp() + " " + Lit(Ty::kDec);
      case 8: return "NOT (" + Pred(a, d - 1) + ")";
      case 9:
      case 10: return "(" + Pred(a, d - 1) + (Chance(50) ? " AND " : " OR ") + Pred(a, d - 1) + ")";
      default: return SubqueryPred(a);
    }
  }
  std::string SubAlias() { return "s" + std::to_string(sub_++); }
  std::string SubqueryPred(const std::string& a) {
    std::string b = SubAlias();
    switch (Pick(4)) {
      case 0: {
        Ty t = AnyValueType();
        return Col(t, a) + (Chance(20) ? " NOT IN " : " IN ") + "(SELECT " + Col(t, b) + " FROM {T} " + b +
               " WHERE " + Pred(b, 1) + ")";
      }
      case 1:
        return std::string(Chance(25) ? "NOT " : "") + "EXISTS (SELECT 1 FROM {T} " + b + " WHERE " + b +
               ".id = " + a + ".id + " + One(std::vector<std::string>{"1", "3", "-2"}) + " AND " +
               Pred(b, 1) + ")";
      case 2:
        return Col(Ty::kInt, a) + " " + Cmp() + " (SELECT " +
               One(std::vector<std::string>{"avg", "max", "min"}) + "(" + b + ".score) FROM {T} " + b +
               " WHERE " + Pred(b, 0) + ")";
      default:
        return Col(Ty::kDec, a) + " >= (SELECT avg(" + b + ".amount) FROM {T} " + b + " WHERE " + b +
               ".region = " + a + ".region)";
    }
  }
  // A correlated or plain scalar subquery, as a select item.
  std::string ScalarSubquery(const std::string& a) {
    std::string b = SubAlias();
    if (Chance(50)) {
      return "(SELECT " + One(std::vector<std::string>{"max", "min", "sum", "count"}) + "(" + b +
             ".score) FROM {T} " + b + " WHERE " + b + ".region = " + a + ".region)";
    }
    return "(SELECT count(*) FROM {T} " + b + " WHERE " + Pred(b, 1) + ")";
  }

  // --- aggregates ------------------------------------------------------------------
  std::string Agg(const std::string& a) {
    switch (Pick(8)) {
      case 0: return "count(*)";
      case 1: return "count(" + Expr(AnyValueType(), a, 1) + ")";
      case 2: return "count(DISTINCT " + Expr(AnyValueType(), a, 1) + ")";
      case 3: return "sum(" + Expr(Chance(50) ? Ty::kInt : Ty::kDec, a, 1) + ")";
      case 4: return "min(" + Expr(AnyValueType(), a, 1) + ")";
      case 5: return "max(" + Expr(AnyValueType(), a, 1) + ")";
      case 6: return "avg(" + Expr(Chance(50) ? Ty::kInt : Ty::kDec, a, 1) + ")";
      default: return "sum(" + Oracle(a) + ")";
    }
  }
  std::string GroupKey(const std::string& a) {
    static const std::vector<std::string> keys = {"{a}.region",
                                                  "{a}.score % 5",
                                                  "year({a}.created)",
                                                  "substr({a}.email, 1, 6)",
                                                  "({a}.score IS NULL)",
                                                  "{a}.email",
                                                  "lower({a}.region)",
                                                  "CAST(date_trunc('year', {a}.created) AS DATE)",
                                                  "round({a}.amount, -2)",
                                                  "{a}.score"};
    std::string s = One(keys);
    for (size_t at = s.find("{a}"); at != std::string::npos; at = s.find("{a}", at)) s.replace(at, 3, a);
    return s;
  }

  // --- shapes ----------------------------------------------------------------------
  void Items(GenQuery& q, const std::vector<std::string>& exprs) {
    for (auto& e : exprs) q.items.push_back(e + " AS c" + std::to_string(q.items.size()));
  }
  // Up to `max` conjuncts, mostly one or none (more leave few rows).
  void Where(GenQuery& q, const std::string& a, int max) {
    int n = Chance(35) ? 0 : Chance(70) ? 1 : max;
    for (int i = 0; i < n; i++) q.where.push_back(Pred(a, Chance(50) ? 1 : 2));
  }
  void MaybeLimit(GenQuery& q) {
    if (Chance(25)) {
      q.order_all = true;
      q.limit = One(std::vector<int>{1, 3, 10, 50});
      if (Chance(30)) q.offset = One(std::vector<int>{1, 5, 20});
    } else if (Chance(20)) {
      q.order_all = true;
    }
  }
  std::vector<std::string> Exprs(const std::string& a, int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; i++) out.push_back(Expr(AnyValueType(), a, 3));
    return out;
  }
  GenQuery Simple(const std::string& from = "{T} a") {
    GenQuery q;
    q.from = from;
    if (Chance(5)) {
      q.items.push_back("*");
    } else {
      Items(q, Exprs("a", 1 + Pick(4)));
      if (Chance(10)) Items(q, {ScalarSubquery("a")});
    }
    q.distinct = Chance(20);
    Where(q, "a", 3);
    MaybeLimit(q);
    return q;
  }
  GenQuery Grouped() {
    GenQuery q;
    q.from = "{T} a";
    std::vector<std::string> keys = {GroupKey("a")};
    if (Chance(40)) keys.push_back(GroupKey("a"));
    Items(q, keys);
    q.group = keys;
    for (int i = 1 + Pick(3); i > 0; i--) Items(q, {Agg("a")});
    Where(q, "a", 2);
    if (Chance(30))
      q.having.push_back(One(std::vector<std::string>{"count(*) > 2", "sum(a.score) >= 40",
                                                      "max(a.amount) < 900", "min(a.id) % 2 = 0"}));
    MaybeLimit(q);
    return q;
  }
  GenQuery Global() {
    GenQuery q;
    q.from = "{T} a";
    for (int i = 1 + Pick(4); i > 0; i--) Items(q, {Agg("a")});
    Where(q, "a", 3);
    return q;
  }
  GenQuery Join() {
    GenQuery q;
    std::string kind = One(std::vector<std::string>{"JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"});
    bool by_id = Chance(50);
    // Keys of one type: a comparison of mixed types could fail on a visible row.
    std::string col = One(std::vector<std::string>{"region", "score", "created", "email"});
    std::string on = by_id        ? "a.id = b.id + " + One(std::vector<std::string>{"0", "1", "4"})
                     : Chance(80) ? "a." + col + " = b." + col
                                  : "a.score = b.id";
    if (Chance(30)) on += " AND " + Pred("b", 1);
    q.from = "{T} a " + kind + " {T} b ON " + on;
    if (by_id) {
      Items(q, {Expr(AnyValueType(), "a", 2), Expr(AnyValueType(), "b", 2)});
      MaybeLimit(q);
    } else {
      std::string key = GroupKey(Chance(50) ? "a" : "b");
      Items(q, {key, Agg("a"), Agg("b")});
      q.group = {key};
    }
    Where(q, Chance(50) ? "a" : "b", 2);
    return q;
  }
  GenQuery Window() {
    static const std::vector<std::string> parts = {"a.region", "a.score % 3", "year(a.created)",
                                                   "(a.email IS NULL)"};
    GenQuery q;
    q.from = "{T} a";
    Items(q, {"a.id"});
    for (int i = 1 + Pick(3); i > 0; i--) {
      std::string p = "PARTITION BY " + One(parts);
      switch (Pick(7)) {
        case 0: Items(q, {"row_number() OVER (" + p + " ORDER BY a.id)"}); break;
        case 1: Items(q, {"rank() OVER (" + p + " ORDER BY " + Expr(AnyValueType(), "a", 1) + ")"}); break;
        case 2: Items(q, {"dense_rank() OVER (ORDER BY " + Expr(AnyValueType(), "a", 1) + ")"}); break;
        case 3: Items(q, {"sum(a.amount) OVER (" + p + ")"}); break;
        case 4: Items(q, {"count(*) OVER (" + p + ")"}); break;
        case 5:
          Items(q, {std::string(Chance(50) ? "lag(" : "lead(") + Expr(AnyValueType(), "a", 1) + ") OVER (" +
                    p + " ORDER BY a.id)"});
          break;
        default: Items(q, {"sum(a.score) OVER (ORDER BY a.id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)"});
      }
    }
    Where(q, "a", 2);
    if (Chance(25))
      q.qualify = "row_number() OVER (" + ("PARTITION BY " + One(parts)) + " ORDER BY a.id) <= 3";
    MaybeLimit(q);
    return q;
  }
  GenQuery SetOp() {
    std::vector<Ty> types;
    for (int i = 1 + Pick(3); i > 0; i--) types.push_back(AnyValueType());
    auto side = [&] {
      GenQuery q;
      q.from = "{T} a";
      std::vector<std::string> e;
      for (Ty t : types) e.push_back(Expr(t, "a", 2));
      Items(q, e);
      Where(q, "a", 2);
      return q;
    };
    GenQuery q = side();
    q.set_op = One(
        std::vector<std::string>{"UNION", "UNION ALL", "EXCEPT", "INTERSECT", "EXCEPT ALL", "INTERSECT ALL"});
    q.rhs = std::make_shared<GenQuery>(side());
    return q;
  }
  // A derived table, or a CTE. The first rows by id are taken in a MATERIALIZED CTE:
  // DuckDB 1.4 pushes a hash join's runtime filter below a LIMIT / TOP_N in a derived
  // table on the join's probe side, which changes which rows the limit keeps (wrong
  // results on any table, governed or not; duckdb/duckdb#22924, fixed by #22963).
  GenQuery Derived() {
    std::string cte;
    switch (Pick(3)) {
      case 0: return Simple("(SELECT * FROM {T} x WHERE " + Pred("x", 1) + ") a");
      case 1:
        cte = "WITH c AS MATERIALIZED (SELECT * FROM {T} x ORDER BY x.id LIMIT " +
              std::to_string(10 + Pick(80)) + ") ";
        break;
      default: cte = "WITH c AS (SELECT * FROM {T} x WHERE " + Pred("x", 1) + ") ";
    }
    GenQuery q = Chance(50) ? Simple("c a") : Grouped();
    q.cte = cte;
    if (q.from == "{T} a") q.from = "c a";
    return q;
  }
  GenQuery WithSubqueries() {
    GenQuery q = Simple();
    q.where.push_back(SubqueryPred("a"));
    return q;
  }

  std::mt19937_64 rng_;
  int sub_ = 0;  // subquery aliases of the current query
};

}  // namespace tarn::testing
