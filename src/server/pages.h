// Server-rendered HTML pages (the sign-in pages, the studio's entry): escaped text,
// and the headers every one carries (no script allowed by a strict
// Content-Security-Policy, no framing, no caching).
#pragma once

#include <string>

#include "common/util.h"
#include "server/http.h"

namespace tarn::server {

// `body` goes inside <main>; `form_origin`: another origin forms may post or redirect
// to ("" for the page's own only).
Response HtmlPage(http::status status, const std::string& title, const std::string& body,
                  const std::string& form_origin, unsigned version);

// `html` as a page with Content-Security-Policy `csp` and the headers every page
// carries (no caching, no framing, no sniffing, no referrer).
Response PageResponse(http::status status, std::string html, const std::string& csp, unsigned version);

}  // namespace tarn::server
