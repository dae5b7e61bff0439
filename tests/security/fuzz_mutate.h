// Mutations for the fuzz tests of governance (fuzz_test.cpp): byte flips, token
// deletion, duplication and swaps, splices of two inputs, and insertions of quotes,
// parentheses, NUL and control bytes, very long identifiers, unicode and invalid
// UTF-8, SQL keywords and extreme numbers. Deterministic for a given seed.
#pragma once

#include <cctype>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace tarn::testing {

class Mutator {
 public:
  explicit Mutator(uint64_t seed) : rng_(seed) {}

  int Pick(int n) { return n <= 0 ? 0 : static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  bool Chance(int percent) { return Pick(100) < percent; }
  template <typename T>
  const T& One(const std::vector<T>& v) {
    return v[Pick(static_cast<int>(v.size()))];
  }

  // `s` changed by one mutation, sometimes two or three; `others` are splice partners.
  std::string Mutate(std::string s, const std::vector<std::string>& others) {
    for (int n = Chance(60) ? 1 : Chance(75) ? 2 : 3; n > 0; n--) s = MutateOnce(std::move(s), others);
    return s;
  }

  // Something odd to put in a text: control bytes, quotes, unicode, a long name.
  std::string Oddity() {
    static const std::vector<std::string> odd = {std::string(1, '\0'),
                                                 "\n",
                                                 "\r\n",
                                                 "\t",
                                                 "\x01",
                                                 "\x1f",
                                                 "\x7f",
                                                 "'",
                                                 "\"",
                                                 "''",
                                                 "\\",
                                                 "(",
                                                 ")",
                                                 "((",
                                                 "))",
                                                 ";",
                                                 ",",
                                                 ".",
                                                 "*",
                                                 "--",
                                                 "/*",
                                                 "*/",
                                                 "$$",
                                                 "%",
                                                 "_",
                                                 "{",
                                                 "}",
                                                 "[",
                                                 "]",
                                                 "::",
                                                 "\xc3\xa9",          // é
                                                 "\xe2\x80\xae",      // right-to-left override
                                                 "\xf0\x9f\x98\x80",  // an emoji
                                                 "\xef\xbb\xbf",      // byte order mark
                                                 "\xc3\x28",
                                                 "\xff",
                                                 "\xfe\xfe",          // invalid UTF-8
                                                 "\xed\xa0\x80",      // a UTF-16 surrogate in UTF-8
                                                 "\xe0\x80\xaf",      // an overlong '/'
                                                 "\xf4\x90\x80\x80",  // beyond U+10FFFF
                                                 "\\u0000",
                                                 "%00",
                                                 "%0a",
                                                 "%1f",
                                                 "%2f",
                                                 "%zz",
                                                 "..",
                                                 "/",
                                                 "//"};
    switch (Pick(6)) {
      case 0: return std::string(static_cast<size_t>(60 + Pick(20)), 'a');  // around the 64-byte name limit
      case 1: return std::string(static_cast<size_t>(1000 + Pick(20000)), static_cast<char>('a' + Pick(26)));
      case 2:
        return One(std::vector<std::string>{
            "SELECT", "FROM",       "WHERE", "UNION",     "GRANT",        "REVOKE",
            "TO",     "ON",         "ALL",   "ADMIN",     "DATA FILTER",  "TABLE",
            "NULL",   "CAST(",      "WITH",  "EXPLAIN",   "ACCESS",       "FOR USER admin",
            "EXEMPT", "ROW FILTER", "MASK",  "d.payroll", "system.audit", "*"});
      case 3:
        return One(std::vector<std::string>{"9223372036854775807", "-9223372036854775808",
                                            "18446744073709551616", "1e309", "-0", "0", "-1",
                                            "340282366920938463463374607431768211456", "0.0000001"});
      default: return One(odd);
    }
  }

 private:
  static bool IsWord(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
  }
  // [start, end) of every token: a run of word characters, or one other non-space byte.
  static std::vector<std::pair<size_t, size_t>> Tokens(const std::string& s) {
    std::vector<std::pair<size_t, size_t>> out;
    for (size_t i = 0; i < s.size();) {
      if (std::isspace(static_cast<unsigned char>(s[i]))) {
        i++;
        continue;
      }
      size_t j = i + 1;
      if (IsWord(s[i])) {
        while (j < s.size() && IsWord(s[j])) j++;
      }
      out.push_back({i, j});
      i = j;
    }
    return out;
  }
  size_t Where(const std::string& s) { return static_cast<size_t>(Pick(static_cast<int>(s.size()) + 1)); }

  std::string MutateOnce(std::string s, const std::vector<std::string>& others) {
    auto tokens = Tokens(s);
    switch (Pick(9)) {
      case 0:  // flip a bit
        if (!s.empty()) s[Where(s) % s.size()] ^= static_cast<char>(1 << Pick(8));
        return s;
      case 1:  // insert something odd
        return s.insert(Where(s), Oddity());
      case 2:  // replace a byte with something odd
        if (!s.empty()) s.replace(Where(s) % s.size(), 1, Oddity());
        return s;
      case 3:  // truncate
        return s.substr(0, Where(s));
      case 4:  // splice: our head, another's tail
        if (!others.empty()) {
          const std::string& o = One(others);
          return s.substr(0, Where(s)) + " " + o.substr(Where(o));
        }
        return s;
      default: break;
    }
    if (tokens.empty()) return s + Oddity();
    auto [b, e] = tokens[static_cast<size_t>(Pick(static_cast<int>(tokens.size())))];
    switch (Pick(4)) {
      case 0: return s.erase(b, e - b);                      // delete a token
      case 1: return s.insert(e, " " + s.substr(b, e - b));  // duplicate it
      case 2: return s.replace(b, e - b, Oddity());          // replace it
      default: {                                             // swap two tokens
        auto [b2, e2] = tokens[static_cast<size_t>(Pick(static_cast<int>(tokens.size())))];
        if (b2 < b) std::swap(b, b2), std::swap(e, e2);
        if (b2 < e) return s;
        std::string first = s.substr(b, e - b), second = s.substr(b2, e2 - b2);
        s.replace(b2, e2 - b2, first);
        return s.replace(b, e - b, second);
      }
    }
  }

  std::mt19937_64 rng_;
};

}  // namespace tarn::testing
