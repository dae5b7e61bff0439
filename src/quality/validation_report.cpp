// The validation report: one self-contained HTML file (inline CSS and SVG, no script,
// nothing fetched) made from the metrics JSON. Every value from the data is escaped.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/util.h"
#include "quality/validation_spec.h"

namespace tarn::quality {

namespace {

using nlohmann::json;

// A value as the report shows it: NULL in grey, text escaped, numbers plainly.
std::string Show(const json& v) {
  if (v.is_null()) return "<span class=null>NULL</span>";
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    return s.empty() ? "<span class=null>''</span>" : HtmlEscape(s.size() > 200 ? s.substr(0, 200) + "…" : s);
  }
  if (v.is_number_float()) return fmt::format("{:.10g}", v.get<double>());
  return HtmlEscape(v.dump());
}

int64_t Int(const json& v) {
  return v.is_number() ? v.get<int64_t>() : 0;
}

constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#1d2430;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde3ea;padding-bottom:4px}
.sub{color:#5b6675}.badge{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;color:#fff;margin-left:8px;font-size:14px}
.pass{background:#1f883d}.fail{background:#cf222e}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}.tile{border:1px solid #dde3ea;border-radius:8px;padding:10px 16px;min-width:120px}
.tile b{display:block;font-size:22px}.tile span{color:#5b6675;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
table{border-collapse:collapse;margin:6px 0 12px;font-size:13px}td,th{border:1px solid #dde3ea;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f8}td.num{text-align:right;font-variant-numeric:tabular-nums}.null{color:#8b95a3;font-style:italic}
td.diff{background:#fff1c2;font-weight:600}tr.failed td{background:#ffebe9}tr.passed td:first-child{color:#1f883d}
.note{color:#5b6675;font-size:12px;max-width:900px}.grid{display:flex;flex-wrap:wrap;gap:0 16px;align-items:flex-start}
)";

std::string Tiles(const json& m) {
  std::string out = "<div class=tiles>";
  auto tile = [&](const char* label, const std::string& value) {
    out += fmt::format("<div class=tile><b>{}</b><span>{}</span></div>", value, label);
  };
  tile("source rows", Show(m["source"]["rows"]));
  tile("target rows", Show(m["target"]["rows"]));
  tile("matched", Show(m["matched"]));
  tile("missing in target", Show(m["missing"]));
  tile("extra in target", Show(m["extra"]));
  tile("changed", Show(m["changed"]));
  tile("matched fraction", fmt::format("{:.4f}", m["matched_fraction"].get<double>()));
  return out + "</div>";
}

// One bar of matched / missing / extra / changed records, to scale.
std::string RecordsBar(const json& m) {
  const std::pair<const char*, const char*> parts[] = {
      {"matched", "#2da44e"}, {"changed", "#d4a72c"}, {"missing", "#cf222e"}, {"extra", "#8250df"}};
  double total = 0;
  for (auto& [k, c] : parts) total += static_cast<double>(Int(m[k]));
  if (total <= 0) return "";
  std::string svg = "<svg width=900 height=46 role=img aria-label='records by kind'>";
  double x = 0;
  for (auto& [k, color] : parts) {
    double w = 900.0 * static_cast<double>(Int(m[k])) / total;
    if (w <= 0) continue;
    svg += fmt::format("<rect x={:.1f} y=0 width={:.1f} height=24 fill='{}'><title>{}: {}</title></rect>", x,
                       std::max(w, 1.0), color, k, Int(m[k]));
    x += w;
  }
  double lx = 0;
  for (auto& [k, color] : parts) {
    svg +=
        fmt::format("<rect x={} y=32 width=10 height=10 fill='{}'/><text x={} y=41 font-size=12>{} {}</text>",
                    lx, color, lx + 14, k, Int(m[k]));
    lx += 160;
  }
  return svg + "</svg>";
}

// Per column: how many records differ in it, as bars (within tolerance lighter).
std::string ColumnBars(const json& m) {
  int64_t most = 1;
  for (auto& [name, c] : m["columns"].items())
    most = std::max({most, Int(c.value("unequal", json(0))), Int(c.value("within_tolerance", json(0)))});
  size_t n = m["columns"].size();
  std::string svg =
      fmt::format("<svg width=900 height={} role=img aria-label='mismatches per column'>", 24 * n + 8);
  size_t i = 0;
  for (auto& [name, c] : m["columns"].items()) {
    double y = 24.0 * static_cast<double>(i++) + 4;
    double u = 480.0 * static_cast<double>(Int(c.value("unequal", json(0)))) / static_cast<double>(most);
    double w =
        480.0 * static_cast<double>(Int(c.value("within_tolerance", json(0)))) / static_cast<double>(most);
    svg += fmt::format("<text x=0 y={:.0f} font-size=12>{}</text>", y + 13, HtmlEscape(name.substr(0, 28)));
    svg += fmt::format("<rect x=200 y={:.0f} width={:.1f} height=8 fill='#cf222e'/>", y, u);
    svg += fmt::format("<rect x=200 y={:.0f} width={:.1f} height=8 fill='#f0c674'/>", y + 9, w);
    svg += fmt::format("<text x={:.0f} y={:.0f} font-size=12>{} unequal, {} within tolerance</text>",
                       210 + std::max(u, w), y + 13, Int(c.value("unequal", json(0))),
                       Int(c.value("within_tolerance", json(0))));
  }
  return svg + "</svg>";
}

std::string Thresholds(const json& m) {
  if (m["thresholds"].empty()) return "<p class=note>No thresholds: the run passes whatever it finds.</p>";
  std::string out = "<table><tr><th>check</th><th>value</th><th>result</th></tr>";
  for (auto& t : m["thresholds"]) {
    bool ok = t["passed"] == true;
    out +=
        fmt::format("<tr class={}><td>{}</td><td class=num>{}</td><td>{}</td></tr>", ok ? "passed" : "failed",
                    Show(t["check"]), Show(t["value"]), ok ? "passed" : "FAILED");
  }
  return out + "</table>";
}

std::string Columns(const json& m) {
  std::string out =
      "<table><tr><th>column</th><th>target column</th><th>compared "
      "as</th><th>types</th><th>unequal</th><th>NULL on "
      "one side</th><th>within tolerance</th><th>largest |difference|</th></tr>";
  for (auto& [name, c] : m["columns"].items()) {
    std::string types = HtmlEscape(c["source_type"].get<std::string>());
    if (c["source_type"] != c["target_type"])
      types += " → " + HtmlEscape(c["target_type"].get<std::string>());
    out += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=num>{}</td><td class=num>{}</td><td "
        "class=num>{}</td><td class=num>{}</td></tr>",
        HtmlEscape(name), Show(c["target"]), Show(c["compares_as"]), types, Show(c.value("unequal", json())),
        Show(c.value("null_diff", json())), Show(c.value("within_tolerance", json())),
        c.contains("max_abs_diff") ? Show(c["max_abs_diff"]) : "");
  }
  return out + "</table>";
}

// Each profiled column's figures on both sides; a figure that differs is highlighted.
std::string Profiles(const json& m) {
  std::string out;
  for (auto& [name, p] : m["profiles"].items()) {
    out += fmt::format("<table><tr><th>{}</th><th>source</th><th>target ({})</th></tr>", HtmlEscape(name),
                       Show(p["target_column"]));
    for (auto& [stat, v] : p["source"].items()) {
      json t = p["target"].value(stat, json());
      bool differs =
          v != t && !(v.is_number() && t.is_number() && std::fabs(v.get<double>() - t.get<double>()) < 1e-9);
      out += fmt::format("<tr><td>{}</td><td class='num{}'>{}</td><td class='num{}'>{}</td></tr>",
                         HtmlEscape(stat), differs ? " diff" : "", Show(v), differs ? " diff" : "", Show(t));
    }
    out += "</table>";
  }
  return out;
}

// Sample rows of one kind; in changed rows the cells of the changed columns are highlighted.
std::string Samples(const json& rows, const std::string& kind) {
  if (rows.empty()) return fmt::format("<p class=note>No {} records.</p>", kind);
  std::string out = "<table><tr>";
  for (auto& [k, v] : rows[0].items()) out += "<th>" + HtmlEscape(k) + "</th>";
  out += "</tr>";
  for (auto& r : rows) {
    const json& cc = r.contains("changed_columns") ? r["changed_columns"] : json();
    std::string changed = cc.is_string() ? "," + cc.get<std::string>() + "," : "";
    out += "<tr>";
    for (auto& [k, v] : r.items()) {
      bool hit = false;
      for (const char* suffix : {"_source", "_target"}) {
        if (k.size() > 7 && k.ends_with(suffix) &&
            changed.find("," + k.substr(0, k.size() - 7) + ",") != std::string::npos)
          hit = true;
      }
      out += fmt::format("<td{}>{}</td>", hit ? " class=diff" : "", Show(v));
    }
    out += "</tr>";
  }
  return out + "</table>";
}

std::string Extras(const json& m) {
  std::string out;
  if (m.contains("duplicate_keys"))
    out += fmt::format(
        "<table><tr><th></th><th>source</th><th>target</th></tr><tr><td>keys held by more than one "
        "record</td><td "
        "class=num>{}</td><td class=num>{}</td></tr><tr><td>records with such keys</td><td "
        "class=num>{}</td><td "
        "class=num>{}</td></tr><tr><td>records with a NULL key</td><td class=num>{}</td><td "
        "class=num>{}</td></tr></table>",
        Show(m["duplicate_keys"]["source"]), Show(m["duplicate_keys"]["target"]),
        Show(m["rows_with_duplicate_keys"]["source"]), Show(m["rows_with_duplicate_keys"]["target"]),
        Show(m["null_keys"]["source"]), Show(m["null_keys"]["target"]));
  if (!m["completeness"].empty() || !m["rules"].empty()) {
    out += "<table><tr><th>check</th><th>source failing</th><th>target failing</th></tr>";
    for (auto& [name, c] : m["completeness"].items())
      out += fmt::format("<tr><td>{} is not NULL</td><td class=num>{}</td><td class=num>{}</td></tr>",
                         HtmlEscape(name), Show(c["source_nulls"]), Show(c["target_nulls"]));
    for (auto& [name, r] : m["rules"].items())
      out += fmt::format("<tr><td>{}: {}</td><td class=num>{}</td><td class=num>{}</td></tr>",
                         HtmlEscape(name), Show(r["check"]), Show(r.value("source_failed", json())),
                         Show(r.value("target_failed", json())));
    out += "</table>";
  }
  const json& s = m["schema"];
  if (!s["only_in_source"].empty() || !s["only_in_target"].empty() || !s["type_changes"].empty()) {
    out += "<ul>";
    for (auto& c : s["only_in_source"]) out += "<li>only in the source: " + Show(c) + "</li>";
    for (auto& c : s["only_in_target"]) out += "<li>only in the target: " + Show(c) + "</li>";
    for (auto& c : s["type_changes"])
      out += fmt::format("<li>{}: {} → {}</li>", Show(c["column"]), Show(c["source"]), Show(c["target"]));
    out += "</ul>";
  }
  return out;
}

}  // namespace

// What was read from a side in PostgreSQL.
std::string External(const json& x) {
  return fmt::format(
      "<p class=note>The {} was read through connection <b>{}</b>: segment checksums compared in {} "
      "level(s), {} "
      "segment(s) differed, {} of its {} records transferred ({} bytes read) in {} s.</p>",
      Show(x["side"]), Show(x["connection"]), Show(json(x["levels"].size())), Show(x["segments_differing"]),
      Show(x["rows_transferred"]), Show(x["rows"]), Show(x["bytes_transferred"]), Show(x["seconds"]));
}

std::string ValidationReportHtml(const json& m) {
  bool passed = m["passed"] == true;
  std::string title = "Validation " + HtmlEscape(m["validation"].get<std::string>());
  std::string html = fmt::format(
      "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport "
      "content='width=device-width'><title>{0}</title><style>{1}</style></head><body>"
      "<h1>{0}<span class='badge {2}'>{3}</span></h1>"
      "<div class=sub>source <b>{4}</b>{5} → target <b>{6}</b>{7}; keys: {8}; run {9} by {10}</div>",
      title, kStyle, passed ? "pass" : "fail", passed ? "PASSED" : "FAILED", Show(m["source"]["table"]),
      m["source"]["where"] == "" ? "" : " where " + Show(m["source"]["where"]), Show(m["target"]["table"]),
      m["target"]["where"] == "" ? "" : " where " + Show(m["target"]["where"]),
      m["keys"].empty() ? "none (whole records compared as multisets)" : HtmlEscape(m["keys"].dump()),
      Show(m.value("run_id", json())), Show(m.value("submitted_by", json())));
  if (m.contains("external")) html += External(m["external"]);
  html += "<h2>Records</h2>" + Tiles(m) + RecordsBar(m);
  html += "<h2>Thresholds</h2>" + Thresholds(m);
  if (!m["columns"].empty() && m["mode"] == "keys") html += "<h2>Mismatches per column</h2>" + ColumnBars(m);
  html += "<h2>Columns</h2>" + Columns(m);
  html += "<h2>Keys, completeness, rules and schema</h2>" + Extras(m);
  html += "<h2>Profiles, side by side</h2><div class=grid>" + Profiles(m) + "</div>";
  html += fmt::format(
      "<h2>Sample differing records</h2><p class=note>At most the spec's <code>samples</code> of each "
      "kind; every one is in the lake table <b>{}</b>.</p>",
      Show(m["mismatch_table"]));
  for (const char* kind : {"missing", "extra", "changed"})
    html += fmt::format("<h3>{}</h3>", kind) + Samples(m["samples"][kind], kind);
  html += fmt::format(
      "<h2>Apache Griffin's accuracy</h2><p>total {}, miss {}, matched {}, matchedFraction {}</p><p "
      "class=note>As "
      "Griffin defines them: a source record is missed when no target record equals it on every compared "
      "column "
      "as text with NULL read as ''. It cannot see extra records, counts a changed record as missed, and has "
      "no "
      "tolerances (docs/validation.md).</p></body></html>\n",
      Show(m["griffin"]["total"]), Show(m["griffin"]["miss"]), Show(m["griffin"]["matched"]),
      Show(m["griffin"]["matchedFraction"]));
  return html;
}

}  // namespace tarn::quality
