#include "server/pages.h"

#include <fmt/format.h>

namespace tarn::server {

namespace {

constexpr const char* kStyle =
    "body{font:15px system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}"
    "main{max-width:360px;margin:12vh auto;background:#fff;padding:28px 32px;border-radius:10px;"
    "box-shadow:0 2px 12px #0002}h1{font-size:20px;margin:0 0 4px}p{color:#566}label{display:block;"
    "margin:14px 0 4px;font-weight:600}input{width:100%;box-sizing:border-box;padding:9px;font:inherit;"
    "border:1px solid #bbc;border-radius:6px}button{margin-top:20px;width:100%;padding:10px;font:inherit;"
    "font-weight:600;color:#fff;background:#2456d6;border:0;border-radius:6px;cursor:pointer}"
    ".error{color:#b00020;font-weight:600}@media(prefers-color-scheme:dark){body{background:#12151c;"
    "color:#e6e9f0}main{background:#1c212b}input{background:#12151c;color:#e6e9f0;border-color:#445}}";

}  // namespace

Response HtmlPage(http::status status, const std::string& title, const std::string& body,
                  const std::string& form_origin, unsigned version) {
  std::string html = fmt::format(
      "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><meta name=viewport "
      "content='width=device-width'>"
      "<title>{}</title><style>{}</style></head><body><main>{}</main></body></html>\n",
      HtmlEscape(title), kStyle, body);
  std::string actions = "'self'" + (form_origin.empty() ? "" : " " + form_origin);
  return PageResponse(status, std::move(html),
                      "default-src 'none'; style-src 'unsafe-inline'; form-action " + actions +
                          "; frame-ancestors 'none'; base-uri 'none'",
                      version);
}

Response PageResponse(http::status status, std::string html, const std::string& csp, unsigned version) {
  auto res = TextResponse(status, std::move(html), "text/html; charset=utf-8", version);
  res.set("Content-Security-Policy", csp);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Frame-Options", "DENY");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  return res;
}

}  // namespace tarn::server
